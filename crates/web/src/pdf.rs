//! The invoice PDF, typeset with `krilla` in DejaVu Sans (vendored in `assets/fonts`, with its
//! licence). Text is embedded as real text (a subset font with a ToUnicode map), so it can be
//! searched, copied and extracted. Amounts arrive already formatted by `atrium_core::money`:
//! floating point is used here for page coordinates only, never for money.

use std::sync::LazyLock;

use atrium_core::model::Invoice;
use atrium_core::money::{Currency, stored};
use atrium_core::{Error, Result};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use skrifa::MetadataProvider;

static REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

static FONTS: LazyLock<Option<(Font, Font)>> =
    LazyLock::new(|| Some((Font::new(REGULAR.into(), 0)?, Font::new(BOLD.into(), 0)?)));

const W: f32 = 595.0; // A4 in points
const H: f32 = 842.0;
const LEFT: f32 = 50.0;
const RIGHT: f32 = W - 50.0;
const BOTTOM: f32 = H - 60.0;
const INK: (u8, u8, u8) = (0x1f, 0x29, 0x37);
const MUTED: (u8, u8, u8) = (0x6b, 0x72, 0x80);
/// Largest drawn size of the logo on an invoice (points).
const LOGO_MAX_W: f32 = 180.0;
const LOGO_MAX_H: f32 = 40.0;

/// `w` × `h` pixels scaled to fit `max_w` × `max_h` points, keeping the aspect ratio.
fn fit(w: u32, h: u32, max_w: f32, max_h: f32) -> Option<(f32, f32)> {
    if w == 0 || h == 0 {
        return None;
    }
    let (w, h) = (w as f32, h as f32);
    let scale = (max_w / w).min(max_h / h);
    Some((w * scale, h * scale))
}

/// The agency as its invoices show it: name, accent colour and (drawn above the name) logo.
#[derive(Clone, Debug)]
pub struct PdfBrand {
    /// The agency's name.
    pub name: String,
    /// The accent colour (the top band and the word INVOICE).
    pub accent: (u8, u8, u8),
    /// The logo as RGBA pixels with its width and height, when one is set.
    pub logo: Option<(Vec<u8>, u32, u32)>,
}

/// Width of `text` at `size` in `font_data`, from the font's advance widths.
fn width(font_data: &[u8], size: f32, text: &str) -> f32 {
    let Ok(f) = skrifa::FontRef::new(font_data) else { return 0.0 };
    let charmap = f.charmap();
    let metrics = f.glyph_metrics(skrifa::instance::Size::new(size), skrifa::instance::LocationRef::default());
    text.chars().map(|c| charmap.map(c).and_then(|g| metrics.advance_width(g)).unwrap_or(size * 0.6)).sum()
}

/// Splits `text` into lines no wider than `max` (by words; a very long word is cut).
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if width(REGULAR, size, &candidate) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            let mut piece = String::new();
            for ch in word.chars() {
                piece.push(ch);
                if width(REGULAR, size, &piece) > max {
                    piece.pop();
                    out.push(std::mem::take(&mut piece));
                    piece.push(ch);
                }
            }
            line = piece;
        }
        out.push(line);
    }
    out
}

struct Pen<'a, 'b> {
    s: &'a mut Surface<'b>,
    regular: Font,
    bold: Font,
}

impl Pen<'_, '_> {
    fn color(&mut self, (r, g, b): (u8, u8, u8)) {
        self.s.set_fill(Some(Fill { paint: rgb::Color::new(r, g, b).into(), ..Default::default() }));
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, color: (u8, u8, u8), text: &str) {
        self.color(color);
        let font = if bold { self.bold.clone() } else { self.regular.clone() };
        self.s.draw_text(Point::from_xy(x, y), font, size, text, false, TextDirection::Auto);
    }

    /// Text ending at `right`.
    fn right(&mut self, right: f32, y: f32, size: f32, bold: bool, color: (u8, u8, u8), text: &str) {
        let w = width(if bold { BOLD } else { REGULAR }, size, text);
        self.text(right - w, y, size, bold, color, text);
    }

    fn rule(&mut self, y: f32, thickness: f32, color: (u8, u8, u8)) {
        let mut pb = PathBuilder::new();
        pb.move_to(LEFT, y);
        pb.line_to(RIGHT, y);
        if let Some(path) = pb.finish() {
            self.s.set_fill(None);
            self.s.set_stroke(Some(Stroke {
                paint: rgb::Color::new(color.0, color.1, color.2).into(),
                width: thickness,
                ..Default::default()
            }));
            self.s.draw_path(&path);
            self.s.set_stroke(None);
        }
    }

    /// An image (with its drawn width and height) whose top left corner is at `x`, `y`.
    fn image(&mut self, x: f32, y: f32, (img, w, h): &(krilla::image::Image, f32, f32)) {
        let Some(size) = krilla::geom::Size::from_wh(*w, *h) else { return };
        self.s.push_transform(&krilla::geom::Transform::from_translate(x, y));
        self.s.draw_image(img.clone(), size);
        self.s.pop();
    }

    fn band(&mut self, y: f32, h: f32, color: (u8, u8, u8)) {
        let mut pb = PathBuilder::new();
        if let Some(r) = Rect::from_xywh(LEFT, y, RIGHT - LEFT, h) {
            pb.push_rect(r);
        }
        if let Some(path) = pb.finish() {
            self.s.set_fill(Some(Fill {
                paint: rgb::Color::new(color.0, color.1, color.2).into(),
                opacity: NormalizedF32::ONE,
                ..Default::default()
            }));
            self.s.draw_path(&path);
        }
    }
}

/// Columns of the lines table: right edges of quantity, unit price, tax, discount, amount.
const COL_QTY: f32 = 330.0;
const COL_PRICE: f32 = 405.0;
const COL_TAX: f32 = 445.0;
const COL_DISC: f32 = 485.0;
const DESC_MAX: f32 = 255.0;

/// Renders an invoice as a PDF document.
pub fn invoice_pdf(brand: &PdfBrand, inv: &Invoice) -> Result<Vec<u8>> {
    let agency = brand.name.as_str();
    let logo = brand.logo.as_ref().and_then(|(px, w, h)| {
        let (lw, lh) = fit(*w, *h, LOGO_MAX_W, LOGO_MAX_H)?;
        Some((krilla::image::Image::from_rgba8(px.clone(), *w, *h), lw, lh))
    });
    let (regular, bold) = FONTS.clone().ok_or_else(|| Error::internal_msg("the PDF fonts do not load"))?;
    let currency = Currency::parse("currency", &inv.currency)?;
    let show = |amount: &str| -> Result<String> { Ok(currency.display(stored(amount)?)) };
    let mut doc = Document::new();
    doc.set_metadata(Metadata::new().title(format!("Invoice {}", inv.number)).creator(format!("{agency} (Atrium)")));
    // Lay out the body as a list of rows first, so pages can break between rows.
    let mut rows: Vec<(Vec<String>, &atrium_core::model::InvoiceLine)> = Vec::new();
    for l in &inv.lines {
        rows.push((wrap(&l.description, 9.5, DESC_MAX), l));
    }
    let mut page_no = 0;
    let mut row_iter = rows.iter().peekable();
    loop {
        page_no += 1;
        let mut page =
            doc.start_page_with(PageSettings::from_wh(W, H).ok_or_else(|| Error::internal_msg("page size"))?);
        let mut surface = page.surface();
        let mut pen = Pen { s: &mut surface, regular: regular.clone(), bold: bold.clone() };
        let mut y = 70.0;
        if page_no == 1 {
            pen.band(0.0, 8.0, brand.accent);
            if let Some(logo) = &logo {
                // Above the name, which moves down by the logo's height.
                pen.image(LEFT, 24.0, logo);
                y += logo.2;
            }
            pen.text(LEFT, y, 20.0, true, INK, agency);
            pen.right(RIGHT, y, 20.0, true, brand.accent, "INVOICE");
            y += 22.0;
            pen.right(RIGHT, y, 11.0, true, INK, &inv.number);
            y += 16.0;
            let status = if inv.overdue { "Overdue" } else { inv.status.label() };
            pen.right(RIGHT, y, 9.5, false, MUTED, &format!("Status: {status}"));
            y += 30.0;
            pen.text(LEFT, y, 8.5, true, MUTED, "BILL TO");
            pen.text(330.0, y, 8.5, true, MUTED, "ISSUED");
            pen.text(420.0, y, 8.5, true, MUTED, "DUE");
            pen.right(RIGHT, y, 8.5, true, MUTED, "CURRENCY");
            y += 15.0;
            pen.text(LEFT, y, 11.0, true, INK, &inv.client_name);
            pen.text(330.0, y, 10.0, false, INK, &inv.issue_date.format("%Y-%m-%d").to_string());
            pen.text(420.0, y, 10.0, false, INK, &inv.due_date.format("%Y-%m-%d").to_string());
            pen.right(RIGHT, y, 10.0, false, INK, &inv.currency);
            y += 35.0;
        } else {
            pen.text(LEFT, y, 10.0, true, INK, &format!("{agency} · Invoice {} (continued)", inv.number));
            y += 25.0;
        }
        // Table header.
        pen.band(y - 12.0, 18.0, (0xf1, 0xf5, 0xf9));
        pen.text(LEFT + 4.0, y, 8.5, true, MUTED, "DESCRIPTION");
        pen.right(COL_QTY, y, 8.5, true, MUTED, "QTY");
        pen.right(COL_PRICE, y, 8.5, true, MUTED, "UNIT PRICE");
        pen.right(COL_TAX, y, 8.5, true, MUTED, "TAX");
        pen.right(COL_DISC, y, 8.5, true, MUTED, "DISC.");
        pen.right(RIGHT - 4.0, y, 8.5, true, MUTED, "AMOUNT");
        y += 20.0;
        let mut drew_rows = false;
        while let Some((desc, l)) = row_iter.peek() {
            let h = 13.0 * desc.len().max(1) as f32 + 8.0;
            if y + h > BOTTOM - 20.0 {
                break;
            }
            for (i, d) in desc.iter().enumerate() {
                pen.text(LEFT + 4.0, y + 13.0 * i as f32, 9.5, false, INK, d);
            }
            pen.right(COL_QTY, y, 9.5, false, INK, &l.quantity);
            pen.right(COL_PRICE, y, 9.5, false, INK, &l.unit_price);
            pen.right(COL_TAX, y, 9.5, false, INK, &format!("{}%", l.tax_rate));
            let disc = if l.discount == "0" { String::new() } else { format!("{}%", l.discount) };
            pen.right(COL_DISC, y, 9.5, false, INK, &disc);
            pen.right(RIGHT - 4.0, y, 9.5, false, INK, &currency.grouped(stored(&l.net)?));
            y += h - 8.0;
            pen.rule(y - 6.0, 0.5, (0xe5, 0xe7, 0xeb));
            y += 8.0;
            row_iter.next();
            drew_rows = true;
        }
        let done = row_iter.peek().is_none();
        let mut totals_drawn = false;
        // Totals and instructions need room; otherwise they go on the next page.
        let instructions = wrap(&inv.payment_instructions, 9.0, RIGHT - LEFT);
        let notes = wrap(&inv.notes, 9.0, RIGHT - LEFT);
        let needed =
            30.0 + 16.0 * (inv.taxes.len() as f32 + 5.0) + 12.0 * (instructions.len() + notes.len()) as f32 + 40.0;
        // A page that carries no line at all takes the totals whatever their size (long
        // instructions are cut at the page's end).
        if done && (y + needed <= BOTTOM || !drew_rows) {
            totals_drawn = true;
            y += 10.0;
            let label_x = 360.0;
            let total_row = |pen: &mut Pen<'_, '_>, y: &mut f32, label: &str, value: &str, strong: bool| {
                let size = if strong { 11.5 } else { 9.5 };
                pen.text(label_x, *y, size, strong, if strong { INK } else { MUTED }, label);
                pen.right(RIGHT - 4.0, *y, size, strong, INK, value);
                *y += if strong { 20.0 } else { 16.0 };
            };
            total_row(&mut pen, &mut y, "Subtotal", &show(&inv.subtotal)?, false);
            for t in &inv.taxes {
                total_row(&mut pen, &mut y, &format!("Tax {}% on {}", t.rate, t.base), &show(&t.amount)?, false);
            }
            total_row(&mut pen, &mut y, "Total", &show(&inv.total)?, true);
            if !inv.payments.is_empty() {
                total_row(&mut pen, &mut y, "Paid", &show(&inv.paid)?, false);
            }
            total_row(&mut pen, &mut y, "Balance due", &show(&inv.balance)?, true);
            y += 10.0;
            if !instructions.iter().all(String::is_empty) {
                pen.text(LEFT, y, 8.5, true, MUTED, "PAYMENT INSTRUCTIONS");
                y += 14.0;
                for l in &instructions {
                    if y > BOTTOM {
                        break;
                    }
                    pen.text(LEFT, y, 9.0, false, INK, l);
                    y += 12.0;
                }
                y += 8.0;
            }
            if !notes.iter().all(String::is_empty) {
                pen.text(LEFT, y, 8.5, true, MUTED, "NOTES");
                y += 14.0;
                for l in &notes {
                    if y > BOTTOM {
                        break;
                    }
                    pen.text(LEFT, y, 9.0, false, INK, l);
                    y += 12.0;
                }
            }
        }
        pen.rule(H - 45.0, 0.5, (0xe5, 0xe7, 0xeb));
        pen.text(LEFT, H - 30.0, 8.0, false, MUTED, &format!("{agency} · Invoice {}", inv.number));
        pen.right(RIGHT, H - 30.0, 8.0, false, MUTED, &format!("Page {page_no}"));
        drop(pen);
        surface.finish();
        page.finish();
        if totals_drawn {
            break;
        }
        if page_no > 1000 {
            return Err(Error::internal_msg("invoice PDF runs away"));
        }
    }
    doc.finish().map_err(|e| Error::internal_msg(format!("PDF: {e:?}")))
}

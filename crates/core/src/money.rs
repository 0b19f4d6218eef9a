//! Money: ISO 4217 currencies and the exact arithmetic of invoices. Only [`Decimal`] is used
//! here — never a float — and every amount is rounded to its currency's minor unit by one
//! documented rule.
//!
//! ## The rounding rule
//! Rounding is *half away from zero* to the currency's minor unit (0 decimals for JPY, 2 for
//! EUR, 3 for BHD, …), applied in exactly these places:
//! 1. each line's **net** = `quantity × unit_price × (1 − discount / 100)`, rounded;
//! 2. **subtotal** = the sum of the rounded nets (no further rounding needed);
//! 3. for each distinct tax rate, **tax** = `rate / 100 × (sum of the rounded nets at that
//!    rate)`, rounded — tax is computed per rate, not per line;
//! 4. **tax total** = the sum of the per-rate taxes; **total** = subtotal + tax total.
//!
//! Payments and balances are amounts in the minor unit (more decimals are refused, never
//! rounded away).

use std::collections::BTreeMap;
use std::str::FromStr;

pub use rust_decimal::Decimal;
use rust_decimal::RoundingStrategy;

use crate::{Error, Result};

/// Most lines one invoice may have.
pub const MAX_LINES: usize = 200;
/// Largest quantity of one line.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// Largest unit price of one line (in currency units).
pub const MAX_UNIT_PRICE: i64 = 1_000_000_000;
/// Most decimals of a quantity.
pub const QUANTITY_DECIMALS: u32 = 4;
/// Most decimals of a unit price (with these limits every product fits Decimal's 28 digits exactly).
pub const PRICE_DECIMALS: u32 = 4;
/// Most decimals of a tax rate or discount (percent).
pub const RATE_DECIMALS: u32 = 3;
/// Longest line description.
pub const DESCRIPTION_MAX: usize = 500;
/// Longest decimal string accepted anywhere (before parsing).
const DECIMAL_TEXT_MAX: usize = 32;

/// An ISO 4217 currency usable on invoices: it has a minor unit (so not XAU or XXX).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses an ISO 4217 code (upper case, e.g. `EUR`), naming `field` on error.
    pub fn parse(field: &'static str, code: &str) -> Result<Currency> {
        let code = code.trim();
        let c = iso_currency::Currency::from_code(code)
            .ok_or_else(|| Error::invalid(field, format!("{code:?} is not an ISO 4217 currency code")))?;
        if c.exponent().is_none() {
            return Err(Error::invalid(field, format!("{code} has no minor unit and cannot be invoiced")));
        }
        Ok(Currency(c))
    }

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Decimals of the minor unit (0 for JPY, 2 for EUR, 3 for BHD).
    pub fn exponent(self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(0))
    }

    /// Rounds half away from zero to the minor unit.
    pub fn round(self, d: Decimal) -> Decimal {
        let mut r = d.round_dp_with_strategy(self.exponent(), RoundingStrategy::MidpointAwayFromZero);
        r.rescale(self.exponent());
        r
    }

    /// An amount as the API writes it: exactly `exponent` decimals, `.` as separator.
    pub fn format(self, d: Decimal) -> String {
        self.round(d).to_string()
    }

    /// An amount for people: `EUR 1,234.50`.
    pub fn display(self, d: Decimal) -> String {
        format!("{} {}", self.code(), self.grouped(d))
    }

    /// An amount for people without its currency, in the currency's decimals: `1,234.50`.
    pub fn grouped(self, d: Decimal) -> String {
        let s = self.format(d);
        let (neg, s) = s.strip_prefix('-').map_or((false, s.as_str()), |r| (true, r));
        let (int, frac) = s.split_once('.').map_or((s, None), |(i, f)| (i, Some(f)));
        let mut grouped = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        let sign = if neg { "-" } else { "" };
        match frac {
            Some(f) => format!("{sign}{grouped}.{f}"),
            None => format!("{sign}{grouped}"),
        }
    }

    /// Parses an amount of money (payments): positive, at most the minor unit's decimals.
    pub fn amount(self, field: &'static str, text: &str) -> Result<Decimal> {
        let d = decimal(field, text)?;
        if d.scale() > self.exponent() {
            return Err(Error::invalid(
                field,
                format!("{} amounts have at most {} decimals", self.code(), self.exponent()),
            ));
        }
        if d <= Decimal::ZERO {
            return Err(Error::invalid(field, "must be more than zero"));
        }
        if d > Decimal::from(MAX_UNIT_PRICE) * Decimal::from(MAX_QUANTITY) {
            return Err(Error::invalid(field, "is too large"));
        }
        Ok(self.round(d))
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Parses a plain decimal string (`-12.5`, `3`, `0.125`): digits with an optional sign and
/// fraction, no exponent, no grouping.
pub fn decimal(field: &'static str, text: &str) -> Result<Decimal> {
    let t = text.trim();
    let bad = || Error::invalid(field, "must be a decimal number written as a string, like \"12.50\"");
    if t.is_empty() || t.len() > DECIMAL_TEXT_MAX {
        return Err(bad());
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = digits.split_once('.').map_or((digits, ""), |(i, f)| (i, f));
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !all_digits(frac) || (digits.contains('.') && frac.is_empty()) {
        return Err(bad());
    }
    Decimal::from_str_exact(t).map_err(|_| bad())
}

/// One line as entered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineInput {
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub tax_rate: String,
    /// Percent off this line; empty means none.
    pub discount: String,
}

/// A validated line with its rounded net.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub tax_rate: Decimal,
    pub discount: Decimal,
    /// `quantity × unit_price × (1 − discount/100)`, rounded to the minor unit.
    pub net: Decimal,
}

/// Tax at one rate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxAmount {
    pub rate: Decimal,
    /// Sum of the rounded nets at this rate.
    pub base: Decimal,
    /// `rate / 100 × base`, rounded.
    pub amount: Decimal,
}

/// An invoice's computed figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    pub currency: Currency,
    pub lines: Vec<Line>,
    pub subtotal: Decimal,
    /// One entry per distinct rate, lowest rate first.
    pub taxes: Vec<TaxAmount>,
    pub tax_total: Decimal,
    pub total: Decimal,
}

fn indexed(field: &str, i: usize) -> String {
    format!("lines[{i}].{field}")
}

fn bounded(
    field: String,
    text: &str,
    min: Decimal,
    max: Decimal,
    decimals: u32,
    what: &str,
    min_inclusive: bool,
) -> Result<Decimal> {
    let d = decimal("value", text).map_err(|e| match e {
        Error::Invalid { message, .. } => Error::invalid(field.clone(), message),
        other => other,
    })?;
    let below = if min_inclusive { d < min } else { d <= min };
    if below || d > max {
        let lower = if min_inclusive { format!("from {min}") } else { format!("more than {min} and") };
        return Err(Error::invalid(field, format!("{what} must be {lower} at most {max}")));
    }
    if d.scale() > decimals {
        return Err(Error::invalid(field, format!("{what} has at most {decimals} decimals")));
    }
    Ok(d.normalize())
}

/// Validates the lines and computes every figure of an invoice under the rounding rule above.
/// Every limit is checked before any arithmetic, and the arithmetic is checked too, so no input
/// can overflow or panic: the worst is a 422 naming the field.
pub fn compute(currency: Currency, input: &[LineInput]) -> Result<Totals> {
    if input.is_empty() {
        return Err(Error::invalid("lines", "an invoice needs at least one line"));
    }
    if input.len() > MAX_LINES {
        return Err(Error::invalid("lines", format!("an invoice has at most {MAX_LINES} lines")));
    }
    let hundred = Decimal::ONE_HUNDRED;
    let overflow = |i: usize| Error::invalid(indexed("quantity", i), "the line amount is too large");
    let mut lines = Vec::with_capacity(input.len());
    for (i, l) in input.iter().enumerate() {
        let description = crate::validate::line("description", &l.description, DESCRIPTION_MAX)
            .map_err(|e| retarget(e, indexed("description", i)))?;
        let quantity = bounded(
            indexed("quantity", i),
            &l.quantity,
            Decimal::ZERO,
            Decimal::from(MAX_QUANTITY),
            QUANTITY_DECIMALS,
            "quantity",
            false,
        )?;
        let unit_price = bounded(
            indexed("unit_price", i),
            &l.unit_price,
            Decimal::ZERO,
            Decimal::from(MAX_UNIT_PRICE),
            PRICE_DECIMALS,
            "unit price",
            true,
        )?;
        let tax_rate =
            bounded(indexed("tax_rate", i), &l.tax_rate, Decimal::ZERO, hundred, RATE_DECIMALS, "tax rate", true)?;
        let discount = if l.discount.trim().is_empty() {
            Decimal::ZERO
        } else {
            bounded(indexed("discount", i), &l.discount, Decimal::ZERO, hundred, RATE_DECIMALS, "discount", true)?
        };
        let factor = hundred.checked_sub(discount).and_then(|f| f.checked_div(hundred)).ok_or_else(|| overflow(i))?;
        let exact = quantity.checked_mul(unit_price).and_then(|v| v.checked_mul(factor)).ok_or_else(|| overflow(i))?;
        let net = currency.round(exact);
        lines.push(Line { description, quantity, unit_price, tax_rate, discount, net });
    }
    let mut subtotal = Decimal::ZERO;
    let mut bases: BTreeMap<Decimal, Decimal> = BTreeMap::new();
    let too_large = || Error::invalid("lines", "the invoice total is too large");
    for l in &lines {
        subtotal = subtotal.checked_add(l.net).ok_or_else(too_large)?;
        let base = bases.entry(l.tax_rate).or_insert(Decimal::ZERO);
        *base = base.checked_add(l.net).ok_or_else(too_large)?;
    }
    let mut taxes = Vec::with_capacity(bases.len());
    let mut tax_total = Decimal::ZERO;
    for (rate, base) in bases {
        let exact = rate.checked_mul(base).and_then(|v| v.checked_div(hundred)).ok_or_else(too_large)?;
        let amount = currency.round(exact);
        tax_total = tax_total.checked_add(amount).ok_or_else(too_large)?;
        taxes.push(TaxAmount { rate, base, amount });
    }
    let total = subtotal.checked_add(tax_total).ok_or_else(too_large)?;
    Ok(Totals {
        currency,
        lines,
        subtotal: currency.round(subtotal),
        taxes,
        tax_total: currency.round(tax_total),
        total: currency.round(total),
    })
}

fn retarget(e: Error, field: String) -> Error {
    match e {
        Error::Invalid { message, .. } => Error::invalid(field, message),
        other => other,
    }
}

/// Parses a stored decimal string (written by this module); anything else is an internal error.
pub fn stored(text: &str) -> Result<Decimal> {
    Decimal::from_str(text).map_err(|e| Error::internal(format!("stored amount {text:?} does not parse"), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(q: &str, p: &str, rate: &str, disc: &str) -> LineInput {
        LineInput {
            description: "Work".into(),
            quantity: q.into(),
            unit_price: p.into(),
            tax_rate: rate.into(),
            discount: disc.into(),
        }
    }

    fn cur(code: &str) -> Currency {
        Currency::parse("currency", code).unwrap()
    }

    #[test]
    fn currencies_and_their_minor_units() {
        assert_eq!(cur("EUR").exponent(), 2);
        assert_eq!(cur("JPY").exponent(), 0);
        assert_eq!(cur("BHD").exponent(), 3);
        for bad in ["", "EURO", "eur", "ZZZ", "XAU", "XXX", "€"] {
            assert!(Currency::parse("currency", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_worked_example_of_the_rounding_rule() {
        // 1.5 × 120.00 = 180.00 at 20%; 3 × 33.333 = 99.999 → 100.00 at 7%; 1 × 10.005 with
        // 10% off = 9.0045 → 9.00 at 7%.
        let t = compute(
            cur("EUR"),
            &[line("1.5", "120.00", "20", ""), line("3", "33.333", "7", ""), line("1", "10.005", "7", "10")],
        )
        .unwrap();
        let nets: Vec<String> = t.lines.iter().map(|l| l.net.to_string()).collect();
        assert_eq!(nets, ["180.00", "100.00", "9.00"]);
        assert_eq!(t.subtotal.to_string(), "289.00");
        // 7% of 109.00 = 7.63; 20% of 180.00 = 36.00.
        assert_eq!(t.taxes.len(), 2);
        assert_eq!((t.taxes[0].rate.to_string(), t.taxes[0].amount.to_string()), ("7".into(), "7.63".into()));
        assert_eq!(t.taxes[1].amount.to_string(), "36.00");
        assert_eq!(t.tax_total.to_string(), "43.63");
        assert_eq!(t.total.to_string(), "332.63");
        assert_eq!(cur("EUR").display(Decimal::from(1_234_567)), "EUR 1,234,567.00");
        assert_eq!(cur("JPY").format(Decimal::from_str("2.5").unwrap()), "3");
        assert_eq!(cur("BHD").format(Decimal::from_str("0.0005").unwrap()), "0.001");
    }

    #[test]
    fn limits_are_422_naming_the_field_never_a_panic() {
        let eur = cur("EUR");
        let field_of = |r: Result<Totals>| match r {
            Err(Error::Invalid { field, .. }) => field.to_string(),
            other => panic!("expected invalid, got {other:?}"),
        };
        assert_eq!(field_of(compute(eur, &[])), "lines");
        assert_eq!(field_of(compute(eur, &vec![line("1", "1", "0", ""); MAX_LINES + 1])), "lines");
        assert_eq!(field_of(compute(eur, &[line("-1", "1", "0", "")])), "lines[0].quantity");
        assert_eq!(field_of(compute(eur, &[line("0", "1", "0", "")])), "lines[0].quantity");
        assert_eq!(field_of(compute(eur, &[line("1000001", "1", "0", "")])), "lines[0].quantity");
        assert_eq!(field_of(compute(eur, &[line("1.00001", "1", "0", "")])), "lines[0].quantity");
        assert_eq!(field_of(compute(eur, &[line("1", "-5", "0", "")])), "lines[0].unit_price");
        assert_eq!(field_of(compute(eur, &[line("1", "1e9", "0", "")])), "lines[0].unit_price");
        assert_eq!(
            field_of(compute(eur, &[line("1", "99999999999999999999999999999", "0", "")])),
            "lines[0].unit_price"
        );
        assert_eq!(field_of(compute(eur, &[line("1", "1", "100.5", "")])), "lines[0].tax_rate");
        assert_eq!(field_of(compute(eur, &[line("1", "1", "-1", "")])), "lines[0].tax_rate");
        assert_eq!(field_of(compute(eur, &[line("1", "1", "0", "101")])), "lines[0].discount");
        assert_eq!(field_of(compute(eur, &[line("1", "1", "0", "abc")])), "lines[0].discount");
        let mut long = line("1", "1", "0", "");
        long.description = "x".repeat(DESCRIPTION_MAX + 1);
        assert_eq!(field_of(compute(eur, &[line("1", "1", "0", ""), long])), "lines[1].description");
        // The largest of everything still computes exactly.
        let max = line("1000000", "1000000000", "100", "0");
        let t = compute(eur, &vec![max; MAX_LINES]).unwrap();
        assert_eq!(t.total.to_string(), "400000000000000000.00");
        for bad in ["", " ", "1.", ".5", "+1", "1,5", "1e3", "0x10", "١"] {
            assert!(decimal("amount", bad).is_err(), "{bad:?}");
        }
        assert!(eur.amount("amount", "0").is_err());
        assert!(eur.amount("amount", "1.001").is_err());
        assert!(cur("JPY").amount("amount", "1.5").is_err());
        assert_eq!(eur.amount("amount", "12.5").unwrap().to_string(), "12.50");
    }

    #[test]
    fn no_float_in_the_money_path() {
        // The money path is this module; it must not name a floating-point type.
        let src = include_str!("money.rs");
        for t in [concat!("f", "32"), concat!("f", "64"), concat!("as ", "f")] {
            assert!(!src.contains(t), "money.rs mentions {t}");
        }
    }

    /// The oracle: the same rule in integers (quantity ×10⁴, price ×10⁴, rates ×10³).
    fn oracle(exp: u32, lines: &[(i128, i128, i128, i128)]) -> (i128, i128) {
        let ten = |n: u32| 10i128.pow(n);
        // Rounding half away from zero of n / d for n, d ≥ 0.
        let round = |n: i128, d: i128| (2 * n + d) / (2 * d);
        let mut subtotal = 0;
        let mut bases: BTreeMap<i128, i128> = BTreeMap::new();
        for &(q, p, rate, disc) in lines {
            // net (minor units) = q/1e4 × p/1e4 × (1e5 − disc)/1e5 × 10^exp
            let net = round(q * p * (100_000 - disc) * ten(exp), ten(4 + 4 + 5));
            subtotal += net;
            *bases.entry(rate).or_insert(0) += net;
        }
        let tax: i128 = bases.iter().map(|(rate, base)| round(rate * base, 100_000)).sum();
        (subtotal, subtotal + tax)
    }

    fn minor(d: Decimal, exp: u32) -> i128 {
        let mut m = d * Decimal::from(10i64.pow(exp));
        m.rescale(0);
        m.mantissa()
    }

    fn as_text(v: i128, scale: u32) -> String {
        Decimal::from_i128_with_scale(v, scale).to_string()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Totals equal the sum of the rounded lines plus the per-rate taxes, for random lines
        /// in currencies with 0, 2 and 3 decimals.
        #[test]
        fn totals_follow_the_rounding_rule(
            code in prop::sample::select(vec!["JPY", "EUR", "USD", "BHD", "KWD"]),
            raw in prop::collection::vec(
                (1i128..=10_000_000_000, 0i128..=10_000_000_000_000, prop::sample::select(vec![0i128, 5_000, 7_000, 19_000, 20_000, 25_500, 100_000]), prop_oneof![Just(0i128), 0i128..=100_000]),
                1..25,
            ),
        ) {
            let c = cur(code);
            let exp = c.exponent();
            let input: Vec<LineInput> = raw
                .iter()
                .map(|&(q, p, rate, disc)| line(&as_text(q, 4), &as_text(p, 4), &as_text(rate, 3), &as_text(disc, 3)))
                .collect();
            let t = compute(c, &input).unwrap();
            let (subtotal, total) = oracle(exp, &raw);
            prop_assert_eq!(minor(t.subtotal, exp), subtotal);
            prop_assert_eq!(minor(t.total, exp), total);
            // Internal consistency: the figures add up and carry the currency's scale.
            let sum_nets: Decimal = t.lines.iter().map(|l| l.net).sum();
            let sum_tax: Decimal = t.taxes.iter().map(|x| x.amount).sum();
            prop_assert_eq!(t.subtotal, sum_nets);
            prop_assert_eq!(t.tax_total, sum_tax);
            prop_assert_eq!(t.total, t.subtotal + t.tax_total);
            for l in &t.lines {
                prop_assert!(l.net.scale() <= exp);
            }
            prop_assert_eq!(c.format(t.total).split('.').nth(1).map_or(0, str::len), exp as usize);
        }

        /// Arbitrary text never panics the parser or the arithmetic.
        #[test]
        fn any_text_is_a_value_or_a_422(q in ".{0,40}", p in "[-0-9.e]{0,40}", r in "[-0-9.]{0,8}") {
            let _ = compute(cur("EUR"), &[line(&q, &p, &r, "")]);
        }
    }
}

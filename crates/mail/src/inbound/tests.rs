use super::*;

fn mail(headers: &str, body: &str) -> Vec<u8> {
    format!("{headers}\r\n\r\n{body}").replace('\n', "\r\n").replace("\r\r\n", "\r\n").into_bytes()
}

const HEAD: &str = "From: Ann Client <Ann@Client.Example>\nTo: support+abc123@portal.example\nSubject: Re: Task\nMessage-ID: <m1@client.example>\nReturn-Path: <ann@client.example>";

#[test]
fn a_reply_with_quoted_history_and_a_signature_keeps_only_the_reply() {
    let body = "Looks good, ship it.\n\nThanks\n-- \nAnn Client\nACME\n\nOn Tue, 1 Dec 2026 at 10:00, Portal <support@portal.example> wrote:\n> New comment on Task\n> more";
    let m = parse(&mail(HEAD, body)).unwrap();
    assert_eq!(m.text, "Looks good, ship it.\n\nThanks");
    assert_eq!(m.from.as_deref(), Some("ann@client.example"));
    assert_eq!(m.from_name.as_deref(), Some("Ann Client"));
    assert_eq!(m.message_id.as_deref(), Some("m1@client.example"));
    assert_eq!(m.subject, "Re: Task");
    assert_eq!(m.return_path, ReturnPath::Address("ann@client.example".into()));
    assert_eq!(m.automatic, None);
}

#[test]
fn quoted_history_markers() {
    assert_eq!(strip_reply("Yes\n\n-----Original Message-----\nFrom: x"), "Yes");
    assert_eq!(strip_reply("Yes\n\nFrom: Portal <p@x>\nSent: Tuesday\nTo: me\nSubject: s\n\nold"), "Yes");
    assert_eq!(strip_reply("Yes\nSent from my iPhone"), "Yes");
    assert_eq!(strip_reply("Yes\n\nOn Tue, 1 Dec 2026, Portal\n<p@x> wrote:\n> old"), "Yes");
    assert_eq!(strip_reply("Yes\n\n> old\n> older\n"), "Yes");
    assert_eq!(strip_reply("> question?\nanswer\n\n> q2\nanswer 2"), "> question?\nanswer\n\n> q2\nanswer 2");
    assert_eq!(strip_reply("Yes\n________________\nFrom: x"), "Yes");
    // A line merely starting with "From:" in the reply stays.
    assert_eq!(strip_reply("From: the design team, all fine.\nBye"), "From: the design team, all fine.\nBye");
}

#[test]
fn an_html_only_mail_becomes_plain_text() {
    let head =
        "From: ann@client.example\nTo: support@portal.example\nSubject: Hi\nContent-Type: text/html; charset=utf-8";
    let body = "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body><p>Hello <b>there</b> &amp; bye</p><img src=x onerror=alert(2)><div>On Mon, Portal wrote:</div><blockquote>old</blockquote></body></html>";
    let m = parse(&mail(head, body)).unwrap();
    assert!(m.text.contains("Hello there & bye"), "{:?}", m.text);
    for bad in ["<", "alert", "color:red", "old"] {
        assert!(!m.text.contains(bad), "{bad} in {:?}", m.text);
    }
}

#[test]
fn html_quoted_history_is_cut() {
    let gmail = "<div dir=\"ltr\">Yes please</div><br><div class=\"gmail_quote\"><div>On Mon, Portal wrote:</div><blockquote>old</blockquote></div>";
    assert_eq!(html_text(gmail).trim(), "Yes please");
    let apple = "<div>Fine</div><div>by me</div><div><br><div>On 1 Dec 2026, Portal wrote:</div><blockquote type=\"cite\"><div>old</div></blockquote></div>";
    assert_eq!(strip_reply(&html_text(apple)), "Fine\nby me");
    let outlook = "<p>Ok</p><div id=\"divRplyFwdMsg\"><b>From:</b> Portal<br><b>Sent:</b> Monday</div><div>old</div>";
    assert_eq!(html_text(outlook).trim(), "Ok");
}

#[test]
fn recipients_and_attachments() {
    let head = "From: ann@client.example\nTo: Portal <support@portal.example>\nCc: other@x.example\nDelivered-To: support+tok@portal.example\nSubject: files\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"";
    let body = "--b\nContent-Type: text/plain\n\nSee attached\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"brief.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b--\n";
    let m = parse(&mail(head, body)).unwrap();
    assert_eq!(m.text, "See attached");
    assert_eq!(m.attachments, vec![Attachment { name: "brief.pdf".into(), bytes: b"%PDF-1.4\n".to_vec() }]);
    assert!(m.recipients.contains(&"support@portal.example".to_string()));
    assert!(m.recipients.contains(&"support+tok@portal.example".to_string()));
    let a = InboundAddress::parse("Support@Portal.Example", 36).unwrap();
    assert_eq!(a.recipient(&m.recipients), Some(Recipient::Reply("tok".into())));
    assert_eq!(a.recipient(&["support@portal.example".into()]), Some(Recipient::Bare));
    assert_eq!(a.recipient(&["support@other.example".into(), "x@portal.example".into()]), None);
    assert_eq!(a.reply_address("ABC"), "support+abc@portal.example");
}

#[test]
fn inbound_addresses_leave_room_for_the_token() {
    assert!(InboundAddress::parse("support@portal.example", 36).is_ok());
    assert!(InboundAddress::parse(&format!("{}@portal.example", "a".repeat(27)), 36).is_ok());
    assert!(InboundAddress::parse(&format!("{}@portal.example", "a".repeat(28)), 36).is_err());
    for bad in ["no-at", "a+b@x.example", "@x.example", "a@", "a b@x.example", "a@nodot"] {
        assert!(InboundAddress::parse(bad, 36).is_err(), "{bad}");
    }
}

#[test]
fn auto_replies_and_bounces_are_recognised() {
    let cases = [
        ("Auto-Submitted: auto-replied", "auto-submitted"),
        ("Precedence: bulk", "precedence"),
        ("Precedence: auto_reply", "precedence"),
        ("X-Autoreply: yes", "x-autoreply"),
        ("X-Autorespond: yes", "x-autoreply"),
    ];
    for (h, why) in cases {
        let m = parse(&mail(&format!("{HEAD}\n{h}"), "I am away")).unwrap();
        assert_eq!(m.automatic, Some(why), "{h}");
    }
    let m = parse(&mail(&format!("{HEAD}\nAuto-Submitted: no"), "hi")).unwrap();
    assert_eq!(m.automatic, None);
    let null = HEAD.replace("Return-Path: <ann@client.example>", "Return-Path: <>");
    assert_eq!(parse(&mail(&null, "x")).unwrap().automatic, Some("null return-path"));
    let daemon = HEAD.replace("Ann Client <Ann@Client.Example>", "MAILER-DAEMON@client.example");
    assert_eq!(parse(&mail(&daemon, "x")).unwrap().automatic, Some("mailer-daemon"));
    let report = format!(
        "{}\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"",
        HEAD.replace("Return-Path: <ann@client.example>", "Return-Path: <bounces@client.example>")
    );
    let body = "--r\nContent-Type: text/plain\n\nDelivery failed\n--r\nContent-Type: message/delivery-status\n\nStatus: 5.0.0\n--r--\n";
    assert_eq!(parse(&mail(&report, body)).unwrap().automatic, Some("delivery report"));
}

#[test]
fn size_and_shape_are_checked_before_use() {
    let big = vec![b'a'; MAX_RAW + 1];
    assert_eq!(parse(&big).unwrap_err(), InboundError::TooLarge);
    assert!(matches!(parse(b"just some text without headers"), Err(InboundError::Malformed(_))));
    assert!(matches!(parse(&mail("To: a@b.example\nSubject: x", "no from")), Err(InboundError::Malformed(_))));
}

//! Escaping for every output format. Failure texts hold `<`, `&`, quotes and
//! whatever bytes a provider answered; nothing reaches a file unescaped.

/// Whether XML 1.0 allows this character at all.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Text for HTML element content or a double- or single-quoted attribute.
/// Control characters other than tab and newline become U+FFFD.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\r' => {}
            c if !xml_char(c) || ('\u{7f}'..='\u{9f}').contains(&c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Text for HTML element content in which `` `code` `` spans become
/// `<code>` elements; everything is escaped.
pub fn html_inline(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len() % 2 == 0 {
        return html(text);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", html(part))
            } else {
                html(part)
            }
        })
        .collect()
}

/// Text for XML element content as a CDATA section, which every XML reader
/// returns verbatim (some JUnit readers drop character references in text).
/// A `]]>` inside is split across two sections; characters XML 1.0 forbids
/// become U+FFFD.
pub fn xml_cdata(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if xml_char(c) { c } else { '\u{FFFD}' })
        .collect();
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

/// Text for a double-quoted XML attribute: quotes, and the whitespace that
/// attribute-value normalisation would otherwise turn into spaces, are
/// written as references.
pub fn xml_attr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if !xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Inline Markdown text: `` `code` `` spans are kept (GitHub shows their
/// content literally), `<`, `>` and `&` elsewhere become entities so no
/// text is read as HTML, and line breaks become spaces.
pub fn md_inline(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace(['\n', '\r'], " ");
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len() % 2 == 0 {
        // An unpaired backtick: show every backtick literally.
        return md_plain(&text).replace('`', "\\`");
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("`{part}`")
            } else {
                md_plain(part)
            }
        })
        .collect()
}

fn md_plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' => out.push_str("\\\\"),
            '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Inline Markdown for a table cell: as [`md_inline`], with `|` escaped
/// (GitHub needs that inside code spans too).
pub fn md_cell(text: &str) -> String {
    md_inline(text).replace('|', "\\|")
}

/// A fenced Markdown code block holding `text` verbatim: the fence is longer
/// than any run of backticks in the text.
pub fn md_fence(text: &str, info: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    let body: String = text
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    format!("{fence}{info}\n{}\n{fence}\n", body.trim_end_matches('\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_quotes_and_controls() {
        assert_eq!(
            html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(html("a\u{0}b\u{1b}c\r\n"), "a\u{FFFD}b\u{FFFD}c\n");
    }

    #[test]
    fn html_inline_code_spans() {
        assert_eq!(
            html_inline("use `a<b>` & <i>"),
            "use <code>a&lt;b&gt;</code> &amp; &lt;i&gt;"
        );
        assert_eq!(html_inline("odd ` <x>"), "odd ` &lt;x&gt;");
    }

    #[test]
    fn xml_escapes_attributes() {
        assert_eq!(
            xml_attr("a\"b'c\nd<e>&\u{8}"),
            "a&quot;b&apos;c&#10;d&lt;e&gt;&amp;\u{FFFD}"
        );
    }

    #[test]
    fn cdata_splits_its_terminator() {
        assert_eq!(xml_cdata("a<&>b"), "<![CDATA[a<&>b]]>");
        assert_eq!(
            xml_cdata("x]]>y\u{1}"),
            "<![CDATA[x]]]]><![CDATA[>y\u{FFFD}]]>"
        );
    }

    #[test]
    fn markdown_keeps_code_spans_and_escapes_the_rest() {
        assert_eq!(
            md_inline("path <<base>> and `GET <<base>>/x` *not* bold"),
            "path &lt;&lt;base&gt;&gt; and `GET <<base>>/x` \\*not\\* bold"
        );
        assert_eq!(md_cell("a|b `c|d`"), "a\\|b `c\\|d`");
        assert_eq!(md_inline("odd ` tick <x>"), "odd \\` tick &lt;x&gt;");
        assert_eq!(md_inline("two\nlines"), "two lines");
    }

    #[test]
    fn fence_is_longer_than_any_backtick_run() {
        assert_eq!(md_fence("a\n", "diff"), "```diff\na\n```\n");
        assert_eq!(md_fence("x ```` y", ""), "`````\nx ```` y\n`````\n");
    }
}

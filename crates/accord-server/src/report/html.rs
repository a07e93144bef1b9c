//! A report as one self-contained HTML5 file: inline CSS and SVG, no script, no external
//! resources, laid out for the screen and for A4 print. It is separate from the PDF renderer
//! because a browser does the layout here; both draw the same `Doc` the same way.

use std::fmt::Write as _;

use super::doc::{Align, Block, Cell, Doc, Figure, Section, Table, Tone};
use super::svg;

/// Renders a report. The bytes depend only on the `Doc`.
pub(crate) fn render(doc: &Doc) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let lang = if doc.lang.is_empty() {
        String::new()
    } else {
        format!(" lang=\"{}\"", escape(&doc.lang))
    };
    let page_title = [doc.title.as_str(), doc.subtitle.as_str()]
        .into_iter()
        .filter(|text| !text.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html{lang}>\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light\">\n\
         <meta name=\"generator\" content=\"Accord\">\n\
         <title>{title}</title>\n<style>\n{style}{footer_style}</style>\n</head>\n<body>\n\
         <main class=\"report\">\n",
        title = escape(&page_title),
        style = STYLE,
        footer_style = page_footer_style(&doc.footer),
    );

    masthead(&mut html, doc);
    for section in &doc.sections {
        section_html(&mut html, section);
    }
    if !doc.footer.is_empty() {
        let _ = writeln!(html, "<footer class=\"evidence\">{}</footer>", escape(&doc.footer));
    }
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

/// Escapes text for HTML and XML content and attribute values, and drops the control
/// characters that XML does not allow.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            '\t' | '\n' | '\r' => escaped.push(character),
            character if character.is_control() => {}
            character => escaped.push(character),
        }
    }
    escaped
}

/// Escapes text for a CSS string in double quotes inside a `<style>` element: `<` is escaped
/// too, so that the text cannot close the element.
fn escape_css_string(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '"' | '\\' => {
                escaped.push('\\');
                escaped.push(character);
            }
            '<' | '>' | '&' => {
                let _ = write!(escaped, "\\{:x} ", u32::from(character));
            }
            character if character.is_control() => escaped.push(' '),
            character => escaped.push(character),
        }
    }
    escaped
}

/// The page footer of printed copies: the evidence text and `n / m`, in the page margin boxes
/// (browsers without margin boxes still print the footer at the end).
fn page_footer_style(footer: &str) -> String {
    format!(
        "@page {{\n  @bottom-left {{ content: \"{footer}\"; font: 7pt/1.35 {FONT_STACK}; \
         color: {muted}; vertical-align: top; padding-top: 4mm; }}\n  \
         @bottom-right {{ content: counter(page) \" / \" counter(pages); font: 7pt {FONT_STACK}; \
         color: {muted}; vertical-align: top; padding-top: 4mm; width: 18mm; text-align: right; \
         white-space: nowrap; }}\n}}\n",
        footer = escape_css_string(footer),
        muted = svg::MUTED.to_hex(),
    )
}

const FONT_STACK: &str = "system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", \
     Arial, \"Noto Sans\", \"PingFang SC\", \"Microsoft YaHei\", \"Noto Sans CJK SC\", sans-serif";

fn masthead(html: &mut String, doc: &Doc) {
    html.push_str("<header class=\"masthead\">\n");
    if !doc.issuer.is_empty() {
        let _ = writeln!(html, "<p class=\"issuer\">{}</p>", escape(&doc.issuer));
    }
    let _ = writeln!(html, "<h1>{}</h1>", escape(&doc.title));
    if !doc.subtitle.is_empty() {
        let _ = writeln!(html, "<p class=\"subtitle\">{}</p>", escape(&doc.subtitle));
    }
    if !doc.meta.is_empty() {
        html.push_str("<dl class=\"meta\">\n");
        for (term, description) in &doc.meta {
            let _ = writeln!(
                html,
                "<div><dt>{}</dt><dd>{}</dd></div>",
                escape(term),
                escape(description)
            );
        }
        html.push_str("</dl>\n");
    }
    html.push_str("</header>\n");
}

fn section_html(html: &mut String, section: &Section) {
    html.push_str("<section>\n");
    let _ = writeln!(html, "<h2>{}</h2>", escape(&section.title));
    for block in &section.blocks {
        match block {
            Block::Figures(figures) => figures_html(html, figures),
            Block::Paragraph(text) => {
                let _ = writeln!(html, "<p>{}</p>", escape(text));
            }
            Block::Note(tone, text) => {
                let _ = writeln!(
                    html,
                    "<div class=\"note {tone}\" role=\"note\">{marker}<p>{text}</p></div>",
                    tone = tone_class(*tone),
                    marker = marker_html(*tone),
                    text = escape(text),
                );
            }
            Block::Table(table) => table_html(html, table),
            Block::Bars(chart) => {
                let _ = writeln!(
                    html,
                    "<figure class=\"chart\">\n<figcaption>{}</figcaption>\n{}\n</figure>",
                    escape(&chart.title),
                    svg::bars(chart)
                );
            }
        }
    }
    html.push_str("</section>\n");
}

fn figures_html(html: &mut String, figures: &[Figure]) {
    html.push_str("<div class=\"figures\">\n");
    for figure in figures {
        let _ = write!(
            html,
            "<div class=\"figure {tone}\"><div class=\"figure-label\">{label}</div>\
             <div class=\"figure-value\">{value}</div>",
            tone = tone_class(figure.tone),
            label = escape(&figure.label),
            value = escape(&figure.value),
        );
        if !figure.detail.is_empty() {
            let _ = write!(
                html,
                "<div class=\"figure-detail\">{}{}</div>",
                marker_html(figure.tone),
                escape(&figure.detail)
            );
        }
        html.push_str("</div>\n");
    }
    html.push_str("</div>\n");
}

fn table_html(html: &mut String, table: &Table) {
    let total_weight: u32 =
        table.columns.iter().map(|column| u32::from(column.weight.max(1))).sum();
    html.push_str("<div class=\"table\"><table>\n<colgroup>");
    for column in &table.columns {
        let percent = f64::from(column.weight.max(1)) * 100.0 / f64::from(total_weight.max(1));
        let _ = write!(html, "<col style=\"width:{percent:.1}%\">");
    }
    html.push_str("</colgroup>\n<thead><tr>");
    for column in &table.columns {
        let _ = write!(html, "<th{}>{}</th>", align_class(column.align, ""), escape(&column.title));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    if table.rows.is_empty() {
        let _ = writeln!(
            html,
            "<tr class=\"empty\"><td colspan=\"{}\">{}</td></tr>",
            table.columns.len().max(1),
            escape(&table.empty)
        );
    }
    for row in &table.rows {
        html.push_str("<tr>");
        for (column_idx, cell) in row.iter().enumerate() {
            let align = table.columns.get(column_idx).map_or(Align::Left, |column| column.align);
            cell_html(html, cell, align);
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table></div>\n");
}

fn cell_html(html: &mut String, cell: &Cell, align: Align) {
    let tone = if cell.tone == Tone::Neutral { "" } else { tone_class(cell.tone) };
    let _ = write!(
        html,
        "<td{}>{}{}</td>",
        align_class(align, tone),
        marker_html(cell.tone),
        escape(&cell.text)
    );
}

/// The `class` attribute of a cell: alignment plus an optional tone class.
fn align_class(align: Align, tone_class: &str) -> String {
    let classes = match (align, tone_class.is_empty()) {
        (Align::Left, true) => return String::new(),
        (Align::Left, false) => tone_class.to_owned(),
        (Align::Right, true) => "num".to_owned(),
        (Align::Right, false) => format!("num {tone_class}"),
    };
    format!(" class=\"{classes}\"")
}

fn tone_class(tone: Tone) -> &'static str {
    match tone {
        Tone::Neutral => "tone-neutral",
        Tone::Good => "tone-good",
        Tone::Warn => "tone-warn",
        Tone::Bad => "tone-bad",
    }
}

fn marker_html(tone: Tone) -> String {
    svg::tone_marker(tone).map(svg::marker_icon).unwrap_or_default()
}

/// The colours come from `svg`'s palette; keep them in step when either changes.
const STYLE: &str = r#":root {
  --ink: #1f2328; --muted: #59636e; --rule: #d1d9e0; --hairline: #eaeef2; --soft: #f6f8fa;
  --accent: #0b3d91;
  --good: #1a7f37; --warn: #9a6700; --bad: #cf222e;
  --good-fill: #2da44e; --warn-fill: #d4a72c; --bad-fill: #cf222e; --neutral-fill: #8c959f;
  --good-tint: #eaf8ee; --warn-tint: #fdf6dc; --bad-tint: #fdecea; --neutral-tint: #f6f8fa;
}
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  margin: 0; background: #e9edf1; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Noto Sans", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
  -webkit-text-size-adjust: 100%;
}
.report {
  max-width: 62rem; margin: 2rem auto; padding: 3rem 3.5rem 2.5rem; background: #fff;
  border-radius: 6px; box-shadow: 0 1px 3px rgba(31, 35, 40, .12), 0 8px 24px rgba(66, 74, 83, .08);
}
.masthead { border-bottom: 3px solid var(--accent); padding-bottom: 1.25rem; margin-bottom: 2rem; }
.issuer {
  margin: 0 0 .9rem; color: var(--accent); font-size: .72rem; font-weight: 700;
  letter-spacing: .1em; text-transform: uppercase;
}
h1 { margin: 0; font-size: 2rem; line-height: 1.2; letter-spacing: -.01em; }
.subtitle { margin: .3rem 0 0; color: var(--muted); font-size: 1.15rem; }
.meta {
  display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .8rem 1.5rem;
  margin: 1.4rem 0 0; padding-top: 1rem; border-top: 1px solid var(--rule);
}
.meta dt {
  color: var(--muted); font-size: .68rem; font-weight: 600; letter-spacing: .06em;
  text-transform: uppercase;
}
.meta dd { margin: .15rem 0 0; font-size: .9rem; overflow-wrap: anywhere; }
section { margin-top: 2.2rem; }
h2 {
  margin: 0 0 1rem; padding-bottom: .4rem; border-bottom: 1px solid var(--rule);
  font-size: 1.15rem; line-height: 1.3; break-after: avoid; page-break-after: avoid;
}
p { margin: 0 0 1rem; max-width: 48rem; }
.figures {
  display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .8rem;
  margin: 0 0 1.25rem;
}
.figure {
  padding: .8rem 1rem .85rem; background: var(--soft); border-left: 4px solid var(--neutral-fill);
  border-radius: 3px 6px 6px 3px; break-inside: avoid; page-break-inside: avoid;
}
.figure-label { color: var(--muted); font-size: .78rem; font-weight: 600; }
.figure-value {
  margin: .1rem 0 .15rem; font-size: 1.65rem; font-weight: 700; line-height: 1.2;
  font-variant-numeric: tabular-nums; overflow-wrap: anywhere;
}
.figure-detail { color: var(--muted); font-size: .78rem; }
.figure.tone-good { border-left-color: var(--good-fill); }
.figure.tone-warn { border-left-color: var(--warn-fill); }
.figure.tone-bad { border-left-color: var(--bad-fill); }
.figure.tone-good .figure-value, .figure.tone-good .figure-detail .marker { color: var(--good); }
.figure.tone-warn .figure-value, .figure.tone-warn .figure-detail .marker { color: var(--warn); }
.figure.tone-bad .figure-value, .figure.tone-bad .figure-detail .marker { color: var(--bad); }
.table { margin: 0 0 1.25rem; }
table {
  width: 100%; border-collapse: collapse; table-layout: fixed; font-size: .86rem;
  font-variant-numeric: tabular-nums;
}
thead { display: table-header-group; }
th {
  padding: .5rem .6rem; background: #eef1f4; border-bottom: 1px solid var(--rule);
  color: var(--muted); font-size: .7rem; font-weight: 700; letter-spacing: .05em;
  text-align: left; text-transform: uppercase; vertical-align: bottom;
}
td {
  padding: .42rem .6rem; border-bottom: 1px solid var(--hairline); vertical-align: top;
  overflow-wrap: anywhere;
}
tbody tr:nth-child(even) td { background: #f8fafb; }
tr { break-inside: avoid; page-break-inside: avoid; }
.num { text-align: right; }
td.tone-good { color: var(--good); font-weight: 600; }
td.tone-warn { color: var(--warn); font-weight: 600; }
td.tone-bad { color: var(--bad); font-weight: 600; }
tr.empty td { padding: 1rem .6rem; color: var(--muted); text-align: center; }
.marker {
  display: inline-block; width: .72em; height: .72em; margin-right: .35em; vertical-align: -.02em;
}
.note {
  display: flex; gap: .7rem; align-items: baseline; margin: 0 0 1.25rem; padding: .8rem 1rem;
  background: var(--neutral-tint); border-left: 4px solid var(--neutral-fill);
  border-radius: 3px 6px 6px 3px; break-inside: avoid; page-break-inside: avoid;
}
.note p { margin: 0; }
.note .marker { flex: none; width: .9em; height: .9em; margin: 0; vertical-align: -.1em; }
.note.tone-good { background: var(--good-tint); border-left-color: var(--good-fill); }
.note.tone-warn { background: var(--warn-tint); border-left-color: var(--warn-fill); }
.note.tone-bad { background: var(--bad-tint); border-left-color: var(--bad-fill); }
.note.tone-good .marker { color: var(--good); }
.note.tone-warn .marker { color: var(--warn); }
.note.tone-bad .marker { color: var(--bad); }
.chart { margin: 0 0 1.25rem; break-inside: avoid; page-break-inside: avoid; }
.chart figcaption { margin-bottom: .5rem; font-size: .9rem; font-weight: 600; }
.chart svg { display: block; height: auto; }
.evidence {
  margin-top: 2.5rem; padding-top: .9rem; border-top: 1px solid var(--rule); color: var(--muted);
  font-size: .75rem; overflow-wrap: anywhere;
}
@page { size: A4; margin: 18mm 18mm 20mm; }
@media (max-width: 40rem) {
  .report { margin: 0; padding: 1.5rem 1.1rem; border-radius: 0; box-shadow: none; }
  .table { overflow-x: auto; }
  table { min-width: 36rem; }
}
@media print {
  body { background: #fff; font-size: 9.5pt; }
  .report { max-width: none; margin: 0; padding: 0; border-radius: 0; box-shadow: none; }
  h1 { font-size: 20pt; }
  h2 { font-size: 12.5pt; }
  section { margin-top: 1.5rem; }
  table { font-size: 8.5pt; }
  .figure { padding: .6rem .75rem .65rem; }
  .figure-value { font-size: 14pt; }
  .meta { grid-template-columns: repeat(auto-fit, minmax(8.5rem, 1fr)); }
  .figures { grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); }
  .evidence { break-inside: avoid; page-break-inside: avoid; }
}
"#;

#[cfg(test)]
mod tests {
    use super::super::doc::{Column, Table};
    use super::super::pdf::sample;
    use super::*;

    #[test]
    fn text_is_escaped() {
        let doc = Doc {
            title: "<script>alert('x')</script>".to_owned(),
            footer: "evidence \"</style><script>".to_owned(),
            sections: vec![Section {
                title: "A & B".to_owned(),
                blocks: vec![Block::Paragraph("<script>alert(1)</script>".to_owned())],
            }],
            ..Doc::default()
        };
        let html = render(&doc);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(html.contains("<h2>A &amp; B</h2>"));
        assert!(!html.contains("</style><script>"));
        assert_eq!(html.matches("</style>").count(), 1);
    }

    #[test]
    fn language_is_declared() {
        let doc = Doc { lang: "zh-CN".to_owned(), ..Doc::default() };
        assert!(render(&doc).starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
    }

    #[test]
    fn numeric_columns_are_right_aligned_and_tones_have_markers() {
        let table = Table {
            columns: vec![
                Column { title: "Service".to_owned(), align: Align::Left, weight: 3 },
                Column { title: "Availability".to_owned(), align: Align::Right, weight: 1 },
            ],
            rows: vec![vec![
                Cell { text: "Mail".to_owned(), tone: Tone::Neutral },
                Cell { text: "99.1 %".to_owned(), tone: Tone::Bad },
            ]],
            empty: String::new(),
        };
        let doc = Doc {
            sections: vec![Section { title: "T".to_owned(), blocks: vec![Block::Table(table)] }],
            ..Doc::default()
        };
        let html = render(&doc);
        assert!(html.contains("<col style=\"width:75.0%\"><col style=\"width:25.0%\">"));
        assert!(html.contains("<th class=\"num\">Availability</th>"));
        assert!(html.contains("<td class=\"num tone-bad\"><svg class=\"marker\""));
        assert!(html.contains("<td>Mail</td>"));
    }

    #[test]
    fn empty_table_shows_its_empty_text() {
        let table = Table {
            columns: vec![Column { title: "Breach".to_owned(), ..Column::default() }],
            rows: vec![],
            empty: "No breaches in the period.".to_owned(),
        };
        let doc = Doc {
            sections: vec![Section { title: "T".to_owned(), blocks: vec![Block::Table(table)] }],
            ..Doc::default()
        };
        assert!(
            render(&doc)
                .contains("<tr class=\"empty\"><td colspan=\"1\">No breaches in the period.</td>")
        );
    }

    #[test]
    fn sample_is_self_contained_and_deterministic() {
        let doc = sample::monthly_report();
        let html = render(&doc);
        assert_eq!(html, render(&doc));
        assert!(!html.contains("<script"));
        assert!(!html.replace("http://www.w3.org/2000/svg", "").contains("http"));
        assert_eq!(html.matches("<figure class=\"chart\">").count(), 1);
        assert_eq!(html.matches("<section>").count(), doc.sections.len());
    }
}

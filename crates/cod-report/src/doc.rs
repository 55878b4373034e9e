//! The report as a document: sections of paragraphs, tables and figures, rendered once as
//! Markdown and once as self-contained HTML, so the two never disagree.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::plot::FONT;

/// A whole report.
#[derive(Debug, Default)]
pub struct Document {
    pub title: String,
    /// Paragraphs before the table of contents.
    pub intro: Vec<String>,
    pub sections: Vec<Section>,
}

/// One `<section>`: a benchmark, a task, or the summary.
#[derive(Debug)]
pub struct Section {
    /// The HTML id, unique in the document (see [`Ids`]).
    pub id: String,
    pub title: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug)]
pub enum Block {
    /// Plain text; escaped for each format.
    Paragraph(String),
    Table(Table),
    Figure(Figure),
}

/// A table of text cells; `numeric` columns are right-aligned.
#[derive(Debug)]
pub struct Table {
    pub caption: String,
    pub header: Vec<String>,
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose first `text_columns` columns are text and the rest numbers.
    #[must_use]
    pub fn new(caption: &str, header: &[&str], text_columns: usize) -> Table {
        Table {
            caption: caption.to_owned(),
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            numeric: (0..header.len()).map(|i| i >= text_columns).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.header.len());
        self.rows.push(cells);
    }
}

/// A plot: inline SVG for the HTML, and optionally a PNG file that the Markdown links to.
#[derive(Debug)]
pub struct Figure {
    pub id: String,
    pub caption: String,
    pub svg: String,
    /// (path relative to the report, bytes).
    pub png: Option<(String, Vec<u8>)>,
}

/// Hands out unique, HTML-safe ids.
#[derive(Debug, Default)]
pub struct Ids(BTreeSet<String>);

impl Ids {
    /// `prefix-slug`, where slug keeps ASCII letters and digits of `name` (lowercased) and turns
    /// every run of other characters into one `-`; a repeat gets `-2`, `-3`, ….
    pub fn make(&mut self, prefix: &str, name: &str) -> String {
        let mut slug = String::new();
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug = slug.trim_matches('-');
        let base = if slug.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}-{slug}")
        };
        let mut id = base.clone();
        let mut n = 1;
        while self.0.contains(&id) {
            n += 1;
            id = format!("{base}-{n}");
        }
        self.0.insert(id.clone());
        id
    }
}

/// Escapes text for HTML element content and attribute values.
#[must_use]
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for Markdown: the characters that could start emphasis, code, links, HTML, a
/// heading or a table cell break are backslash-escaped, and line breaks become spaces. (A `>`
/// only quotes at the start of a line, where the report's text never puts one.)
#[must_use]
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

impl Document {
    /// Every figure's PNG, by path.
    #[must_use]
    pub fn png_files(&self) -> Vec<(String, Vec<u8>)> {
        self.figures()
            .filter_map(|f| f.png.clone())
            .collect::<Vec<_>>()
    }

    fn figures(&self) -> impl Iterator<Item = &Figure> {
        self.sections
            .iter()
            .flat_map(|s| &s.blocks)
            .filter_map(|b| match b {
                Block::Figure(f) => Some(f),
                _ => None,
            })
    }

    /// `report.md`: headings, paragraphs and tables; a figure appears as a link to its PNG when
    /// there is one.
    #[must_use]
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}\n", escape_markdown(&self.title));
        for p in &self.intro {
            let _ = writeln!(out, "{}\n", escape_markdown(p));
        }
        let figures = self.figures().count();
        let pngs = self.figures().filter(|f| f.png.is_some()).count();
        if figures > 0 {
            let where_ = if pngs == figures {
                "report.html, and as PNG files linked below"
            } else {
                "report.html (the report stage writes PNG copies with png = true)"
            };
            let _ = writeln!(
                out,
                "{} in {}.\n",
                if figures == 1 {
                    "The plot is".to_owned()
                } else {
                    format!("The {figures} plots are")
                },
                escape_markdown(where_)
            );
        }
        for section in &self.sections {
            let _ = writeln!(out, "## {}\n", escape_markdown(&section.title));
            for block in &section.blocks {
                match block {
                    Block::Paragraph(p) => {
                        let _ = writeln!(out, "{}\n", escape_markdown(p));
                    }
                    Block::Table(t) => markdown_table(&mut out, t),
                    Block::Figure(f) => {
                        if let Some((path, _)) = &f.png {
                            let _ = writeln!(
                                out,
                                "![{}]({path})\n\n*{}*\n",
                                escape_markdown(&f.caption),
                                escape_markdown(&f.caption)
                            );
                        }
                    }
                }
            }
        }
        out
    }

    /// `report.html`: one page with inline CSS, the font as a data URL, and every plot as inline
    /// SVG. No scripts and no external resources.
    #[must_use]
    pub fn html(&self) -> String {
        let mut out = String::with_capacity(
            FONT.len() * 4 / 3 + self.figures().map(|f| f.svg.len()).sum::<usize>() + 65536,
        );
        let title = escape_html(&self.title);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n<style>\n@font-face {{ font-family: \"cod-plot-sans\"; \
             src: url(data:font/ttf;base64,"
        );
        crate::base64::encode_into(FONT, &mut out);
        out.push_str(") format(\"truetype\"); }\n");
        out.push_str(CSS);
        let _ = write!(out, "</style>\n</head>\n<body>\n<h1>{title}</h1>\n");
        for p in &self.intro {
            let _ = writeln!(out, "<p>{}</p>", escape_html(p));
        }
        out.push_str("<nav id=\"contents\">\n<h2>Contents</h2>\n<ol>\n");
        for s in &self.sections {
            let _ = writeln!(
                out,
                "<li><a href=\"#{}\">{}</a></li>",
                escape_html(&s.id),
                escape_html(&s.title)
            );
        }
        out.push_str("</ol>\n</nav>\n");
        for s in &self.sections {
            let _ = write!(
                out,
                "<section id=\"{}\">\n<h2>{}</h2>\n",
                escape_html(&s.id),
                escape_html(&s.title)
            );
            for block in &s.blocks {
                match block {
                    Block::Paragraph(p) => {
                        let _ = writeln!(out, "<p>{}</p>", escape_html(p));
                    }
                    Block::Table(t) => html_table(&mut out, t),
                    Block::Figure(f) => {
                        let _ = write!(
                            out,
                            "<figure id=\"{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
                            escape_html(&f.id),
                            f.svg.trim_end(),
                            escape_html(&f.caption)
                        );
                    }
                }
            }
            out.push_str("</section>\n");
        }
        out.push_str("</body>\n</html>\n");
        out
    }
}

const CSS: &str = "\
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem;
  color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2.2rem; }
nav ol { columns: 3 14rem; }
section { border-top: 1px solid #ccc; }
figure { margin: 1.2rem 0; }
figure svg { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
svg text { font-family: \"cod-plot-sans\", sans-serif; }
figcaption { font-size: 0.9rem; color: #444; max-width: 60rem; margin-top: 0.3rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.88rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2rem 0.55rem; }
th { background: #f4f4f4; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.wide { overflow-x: auto; }
";

fn markdown_table(out: &mut String, t: &Table) {
    if !t.caption.is_empty() {
        let _ = writeln!(out, "**{}**\n", escape_markdown(&t.caption));
    }
    let cells = |row: &[String]| {
        row.iter()
            .map(|c| escape_markdown(c))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let _ = writeln!(out, "| {} |", cells(&t.header));
    let rule: Vec<&str> = t
        .numeric
        .iter()
        .map(|&n| if n { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for row in &t.rows {
        let _ = writeln!(out, "| {} |", cells(row));
    }
    out.push('\n');
}

fn html_table(out: &mut String, t: &Table) {
    out.push_str("<div class=\"wide\"><table>\n");
    if !t.caption.is_empty() {
        let _ = writeln!(out, "<caption>{}</caption>", escape_html(&t.caption));
    }
    let class = |i: usize| {
        if t.numeric.get(i).copied().unwrap_or(false) {
            " class=\"num\""
        } else {
            ""
        }
    };
    out.push_str("<thead><tr>");
    for (i, h) in t.header.iter().enumerate() {
        let _ = write!(out, "<th{}>{}</th>", class(i), escape_html(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let _ = write!(out, "<td{}>{}</td>", class(i), escape_html(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_every_special_character() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn markdown_escapes_table_breaks_and_emphasis() {
        assert_eq!(escape_markdown("a|b *c* _d_\nx"), r"a\|b \*c\* \_d\_ x");
        assert_eq!(
            escape_markdown("[link](u) <b> `c` \\ #"),
            r"\[link\](u) \<b> \`c\` \\ \#"
        );
    }

    #[test]
    fn ids_are_slugs_and_unique() {
        let mut ids = Ids::default();
        assert_eq!(ids.make("b", "MMLU"), "b-mmlu");
        assert_eq!(ids.make("b", "arc_challenge"), "b-arc-challenge");
        assert_eq!(ids.make("b", "arc challenge"), "b-arc-challenge-2");
        assert_eq!(ids.make("b", "<script>"), "b-script");
        assert_eq!(ids.make("b", "∑"), "b");
        assert_eq!(ids.make("b", "∑∑"), "b-2");
    }

    fn document() -> Document {
        let mut table = Table::new("Scores & <errors>", &["name", "value"], 1);
        table.row(vec!["a|b".to_owned(), "1.00".to_owned()]);
        Document {
            title: "T <1>".to_owned(),
            intro: vec!["Intro & more".to_owned()],
            sections: vec![Section {
                id: "s-one".to_owned(),
                title: "One".to_owned(),
                blocks: vec![
                    Block::Paragraph("x < y".to_owned()),
                    Block::Table(table),
                    Block::Figure(Figure {
                        id: "f".to_owned(),
                        caption: "A <plot>".to_owned(),
                        svg: "<svg></svg>".to_owned(),
                        png: Some(("plots/f.png".to_owned(), vec![1])),
                    }),
                ],
            }],
        }
    }

    #[test]
    fn markdown_has_tables_and_png_links() {
        let md = document().markdown();
        assert!(md.starts_with("# T \\<1>\n"), "{md}");
        assert!(
            md.contains("| name | value |\n|---|---:|\n| a\\|b | 1.00 |\n"),
            "{md}"
        );
        assert!(md.contains("![A \\<plot>](plots/f.png)"), "{md}");
        assert!(md.contains("as PNG files linked below"), "{md}");
    }

    #[test]
    fn html_is_escaped_and_has_the_contents_and_sections() {
        let html = document().html();
        assert!(html.contains("<title>T &lt;1&gt;</title>"));
        assert!(html.contains("<li><a href=\"#s-one\">One</a></li>"));
        assert!(html.contains("<section id=\"s-one\">"));
        assert!(html.contains("<p>x &lt; y</p>"));
        assert!(html.contains("<caption>Scores &amp; &lt;errors&gt;</caption>"));
        assert!(html.contains("<td>a|b</td><td class=\"num\">1.00</td>"));
        assert!(html.contains("<figure id=\"f\">\n<svg></svg>\n<figcaption>A &lt;plot&gt;"));
        assert!(!html.contains("<script"));
        assert_eq!(document().png_files().len(), 1);
    }
}

//! A report as a PDF 1.7 file, written by hand: A4 portrait, the standard Helvetica fonts
//! (plus Adobe's predefined `STSong-Light` for Chinese text), uncompressed content streams and
//! no dates or random ids, so the same `Doc` always gives the same bytes and the file can be
//! hashed and signed. It is separate from the HTML renderer because here we do the layout
//! ourselves: measuring text, wrapping, page breaks and the page footers.

use std::fmt::Write as _;

use super::doc::{Align, BarChart, Block, Cell, Doc, Figure, Section, Table, Tone};
use super::svg::{self, Colour};

/// A4 in points (1/72 inch).
const PAGE_WIDTH: f64 = 595.28;
const PAGE_HEIGHT: f64 = 841.89;
/// 18 mm.
const MARGIN: f64 = 51.02;
const CONTENT_LEFT: f64 = MARGIN;
const CONTENT_RIGHT: f64 = PAGE_WIDTH - MARGIN;
const CONTENT_WIDTH: f64 = CONTENT_RIGHT - CONTENT_LEFT;
/// Layout works top-down: `y` is the distance from the top edge of the page.
const CONTENT_TOP: f64 = MARGIN;
const CONTENT_BOTTOM: f64 = PAGE_HEIGHT - MARGIN;
/// The space between two blocks of a section.
const BLOCK_GAP: f64 = 13.0;

const SOFT: Colour = Colour { red: 0xf6, green: 0xf8, blue: 0xfa };
const TABLE_HEADER: Colour = Colour { red: 0xee, green: 0xf1, blue: 0xf4 };
const ZEBRA: Colour = Colour { red: 0xf8, green: 0xfa, blue: 0xfb };
const HAIRLINE: Colour = Colour { red: 0xea, green: 0xee, blue: 0xf2 };

/// Renders a report. The bytes depend only on the `Doc`.
pub(crate) fn render(doc: &Doc) -> Vec<u8> {
    let mut layout = Layout::new();
    layout.masthead(doc);
    for section in &doc.sections {
        layout.section(section);
    }
    let pages = layout.finish(doc);
    write_file(doc, &pages)
}

// Text: fonts, encoding and measurement.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource_name(self) -> &'static str {
        match self {
            Font::Regular => "/F1",
            Font::Bold => "/F2",
        }
    }

    /// Advance widths in 1/1000 em for the WinAnsi codes 32 to 255.
    fn widths(self) -> &'static [u16; 224] {
        match self {
            Font::Regular => &HELVETICA_WIDTHS,
            Font::Bold => &HELVETICA_BOLD_WIDTHS,
        }
    }
}

/// The resource name of the CJK font; it has no bold face, so bold CJK text is set regular.
const CJK_RESOURCE_NAME: &str = "/F3";
/// Every CJK character of `STSong-Light` under `UniGB-UTF16-H` is one em wide.
const CJK_WIDTH: u16 = 1000;
/// The outline stroke that stands in for a bold CJK face, as a share of the font size.
const CJK_EMBOLDEN: f64 = 0.035;

#[derive(Clone, Copy, Debug)]
struct TextStyle {
    font: Font,
    /// Points.
    size: f64,
    colour: Colour,
    /// Extra space after every glyph, in points (the `Tc` operator).
    letter_spacing: f64,
}

impl TextStyle {
    const fn new(font: Font, size: f64, colour: Colour) -> TextStyle {
        TextStyle { font, size, colour, letter_spacing: 0.0 }
    }

    const fn with_letter_spacing(self, letter_spacing: f64) -> TextStyle {
        TextStyle { letter_spacing, ..self }
    }

    const fn with_colour(self, colour: Colour) -> TextStyle {
        TextStyle { colour, ..self }
    }

    /// The baseline of a line whose box starts at `top` and is `leading` tall: capitals are
    /// centred in the box.
    fn baseline(self, top: f64, leading: f64) -> f64 {
        top + (leading + 0.7 * self.size) / 2.0
    }
}

/// What one character becomes in the PDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Glyphs {
    /// One WinAnsi code.
    WinAnsi(u8),
    /// Several WinAnsi codes standing in for a character WinAnsi lacks (`≥` is `>=`).
    Substitute(&'static [u8]),
    /// A character set in the CJK font.
    Cjk,
    /// Nothing: control characters, soft hyphens, zero-width spaces.
    Nothing,
}

/// The base letters of U+0100 to U+017F (Latin Extended-A), so `Łódź` prints as `Lódz` rather
/// than with question marks. Œ, œ, Š, š, Ž, ž and Ÿ are in WinAnsi and never reach this table.
const LATIN_EXTENDED_A_BASE: &[u8; 128] =
    b"AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiIiJjKk\
    kLlLlLlLlLlNnNnNnnNnOoOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";

fn glyphs(character: char) -> Glyphs {
    let code = u32::from(character);
    match character {
        ' '..='~' => Glyphs::WinAnsi(code as u8),
        '\u{a0}'..='\u{ff}' if character != '\u{ad}' => Glyphs::WinAnsi(code as u8),
        '€' => Glyphs::WinAnsi(0x80),
        '‚' => Glyphs::WinAnsi(0x82),
        'ƒ' => Glyphs::WinAnsi(0x83),
        '„' => Glyphs::WinAnsi(0x84),
        '…' => Glyphs::WinAnsi(0x85),
        '†' => Glyphs::WinAnsi(0x86),
        '‡' => Glyphs::WinAnsi(0x87),
        'ˆ' => Glyphs::WinAnsi(0x88),
        '‰' => Glyphs::WinAnsi(0x89),
        'Š' => Glyphs::WinAnsi(0x8a),
        '‹' => Glyphs::WinAnsi(0x8b),
        'Œ' => Glyphs::WinAnsi(0x8c),
        'Ž' => Glyphs::WinAnsi(0x8e),
        '‘' => Glyphs::WinAnsi(0x91),
        '’' | 'ʼ' | '′' => Glyphs::WinAnsi(0x92),
        '“' => Glyphs::WinAnsi(0x93),
        '”' | '″' => Glyphs::WinAnsi(0x94),
        '•' | '∙' | '●' => Glyphs::WinAnsi(0x95),
        '–' | '‒' => Glyphs::WinAnsi(0x96),
        '—' | '―' => Glyphs::WinAnsi(0x97),
        '˜' => Glyphs::WinAnsi(0x98),
        '™' => Glyphs::WinAnsi(0x99),
        'š' => Glyphs::WinAnsi(0x9a),
        '›' => Glyphs::WinAnsi(0x9b),
        'œ' => Glyphs::WinAnsi(0x9c),
        'ž' => Glyphs::WinAnsi(0x9e),
        'Ÿ' => Glyphs::WinAnsi(0x9f),
        // Spaces that must not break print as WinAnsi's non-breaking space.
        '\u{2007}' | '\u{202f}' | '\u{2060}' => Glyphs::WinAnsi(0xa0),
        '\u{2000}'..='\u{2006}' | '\u{2008}'..='\u{200a}' | '\u{3000}' => Glyphs::WinAnsi(b' '),
        '\u{2010}' | '\u{2011}' | '\u{2212}' => Glyphs::WinAnsi(b'-'),
        '\u{2044}' | '\u{2215}' => Glyphs::WinAnsi(b'/'),
        '\u{00ad}' | '\u{200b}'..='\u{200d}' | '\u{feff}' => Glyphs::Nothing,
        '≥' => Glyphs::Substitute(b">="),
        '≤' => Glyphs::Substitute(b"<="),
        '≠' => Glyphs::Substitute(b"!="),
        '≈' => Glyphs::Substitute(b"~"),
        '→' | '⟶' => Glyphs::Substitute(b"->"),
        '←' => Glyphs::Substitute(b"<-"),
        '↔' => Glyphs::Substitute(b"<->"),
        '∞' => Glyphs::Substitute(b"inf"),
        '✓' | '✔' => Glyphs::Substitute(b"OK"),
        '✗' | '✘' => Glyphs::Substitute(b"X"),
        'Ș' | 'Ş' => Glyphs::WinAnsi(b'S'),
        'ș' | 'ş' => Glyphs::WinAnsi(b's'),
        'Ț' | 'Ţ' => Glyphs::WinAnsi(b'T'),
        'ț' | 'ţ' => Glyphs::WinAnsi(b't'),
        '\u{100}'..='\u{17f}' => Glyphs::WinAnsi(LATIN_EXTENDED_A_BASE[(code - 0x100) as usize]),
        character if is_cjk(character) => Glyphs::Cjk,
        character if character.is_control() => Glyphs::Nothing,
        // Combining marks follow the letter they decorate; dropping them keeps the letter.
        '\u{300}'..='\u{36f}' => Glyphs::Nothing,
        _ => Glyphs::WinAnsi(b'?'),
    }
}

/// Characters set in the CJK font: Chinese, Japanese and Korean scripts, their punctuation and
/// the full-width forms.
fn is_cjk(character: char) -> bool {
    matches!(
        character,
        '\u{2e80}'..='\u{2fdf}'
            | '\u{3001}'..='\u{33ff}'
            | '\u{3400}'..='\u{4dbf}'
            | '\u{4e00}'..='\u{9fff}'
            | '\u{ac00}'..='\u{d7af}'
            | '\u{f900}'..='\u{faff}'
            | '\u{fe30}'..='\u{fe4f}'
            | '\u{ff01}'..='\u{ffef}'
            | '\u{20000}'..='\u{2fa1f}'
    )
}

fn win_ansi_width(font: Font, code: u8) -> u16 {
    code.checked_sub(32).map_or(0, |index| font.widths()[usize::from(index)])
}

/// The advance of one character in points, including letter spacing.
fn character_width(character: char, style: TextStyle) -> f64 {
    let (units, n_glyphs) = match glyphs(character) {
        Glyphs::WinAnsi(code) => (win_ansi_width(style.font, code), 1),
        Glyphs::Substitute(codes) => {
            (codes.iter().map(|code| win_ansi_width(style.font, *code)).sum(), codes.len())
        }
        Glyphs::Cjk => (CJK_WIDTH, 1),
        Glyphs::Nothing => (0, 0),
    };
    f64::from(units) * style.size / 1000.0 + style.letter_spacing * n_glyphs as f64
}

fn text_width(text: &str, style: TextStyle) -> f64 {
    text.chars().map(|character| character_width(character, style)).sum()
}

/// Breaks text into lines no wider than `max_width`: at spaces, after hyphens and slashes,
/// around CJK characters, and inside a word only when the word alone is too wide. Newlines
/// in the text start new lines. Always returns at least one line.
fn wrap(text: &str, style: TextStyle, max_width: f64) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0.0;
        // Invariant: `break_at` is a byte index into `line` at which the line may end.
        let mut break_at: Option<usize> = None;
        // The break before the last space, for when that space turns out not to break.
        let mut break_before_space: Option<usize> = None;
        for character in paragraph.chars() {
            let character = match character {
                '\t' => ' ',
                '\r' => continue,
                character => character,
            };
            if character == ' ' {
                if !line.is_empty() {
                    break_before_space = break_at;
                    line.push(' ');
                    line_width += character_width(' ', style);
                    break_at = Some(line.len());
                }
                continue;
            }
            if break_at == Some(line.len()) && binds_across_space(&line, character) {
                break_at = break_before_space;
            }
            let width = character_width(character, style);
            if is_cjk(character) && !line.is_empty() {
                break_at = Some(line.len());
            }
            if line_width + width > max_width && !line.is_empty() {
                match break_at.take() {
                    Some(break_idx) if break_idx > 0 => {
                        let rest = line.split_off(break_idx);
                        lines.push(line.trim_end().to_owned());
                        line = rest.trim_start().to_owned();
                    }
                    _ => lines.push(std::mem::take(&mut line)),
                }
                line_width = text_width(&line, style);
                // The remainder of a long word may still not leave room for this character.
                if line_width + width > max_width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
            }
            line.push(character);
            line_width += width;
            if is_cjk(character) || matches!(character, '-' | '/') {
                break_at = Some(line.len());
            }
        }
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// Whether a space just before `next` must not break: `99.9 %` keeps its unit and `184 223`
/// its digit groups, even when the text uses plain spaces there.
fn binds_across_space(line: &str, next: char) -> bool {
    let mut before_space = line.strip_suffix(' ').unwrap_or(line).chars().rev();
    match next {
        '%' | '‰' => true,
        '0'..='9' => before_space.next().is_some_and(|character| character.is_ascii_digit()),
        _ => false,
    }
}

/// Shortens text to `max_width`, ending it with `…` when anything was cut.
fn truncate(text: &str, style: TextStyle, max_width: f64) -> String {
    if text_width(text, style) <= max_width {
        return text.to_owned();
    }
    with_ellipsis(text, style, max_width)
}

/// Ends text with `…`, dropping characters from its end until it fits.
fn with_ellipsis(text: &str, style: TextStyle, max_width: f64) -> String {
    let room = max_width - character_width('…', style);
    let mut shortened = String::new();
    let mut width = 0.0;
    for character in text.chars() {
        width += character_width(character, style);
        if width > room {
            break;
        }
        shortened.push(character);
    }
    let mut shortened = shortened.trim_end().to_owned();
    shortened.push('…');
    shortened
}

/// Wraps text into at most `max_lines` lines, marking a cut with `…`.
fn wrap_at_most(text: &str, style: TextStyle, max_width: f64, max_lines: usize) -> Vec<String> {
    let mut lines = wrap(text, style, max_width);
    if lines.len() > max_lines {
        lines.truncate(max_lines.max(1));
        if let Some(last_line) = lines.last_mut() {
            *last_line = with_ellipsis(last_line, style, max_width);
        }
    }
    lines
}

/// A number for a content stream: at most two decimals, no trailing zeros.
fn number(value: f64) -> String {
    let rounded = format!("{value:.2}");
    let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" { "0".to_owned() } else { trimmed.to_owned() }
}

fn colour_operands(colour: Colour) -> String {
    let component = |value: u8| number(f64::from(value) / 255.0);
    format!("{} {} {}", component(colour.red), component(colour.green), component(colour.blue))
}

/// A PDF literal string of WinAnsi codes; everything outside printable ASCII is escaped, so
/// content streams stay ASCII.
fn literal_string(codes: &[u8]) -> String {
    let mut literal = String::with_capacity(codes.len() + 2);
    literal.push('(');
    for code in codes {
        match code {
            b'(' | b')' | b'\\' => {
                literal.push('\\');
                literal.push(char::from(*code));
            }
            b' '..=b'~' => literal.push(char::from(*code)),
            _ => {
                let _ = write!(literal, "\\{code:03o}");
            }
        }
    }
    literal.push(')');
    literal
}

/// A text string outside content streams (the document information): ASCII as a literal,
/// anything else as UTF-16BE with a byte order mark.
fn text_string(text: &str) -> String {
    if text.chars().all(|character| matches!(character, ' '..='~')) {
        return literal_string(text.as_bytes());
    }
    let mut hex = String::from("<FEFF");
    for unit in text.encode_utf16() {
        let _ = write!(hex, "{unit:04X}");
    }
    hex.push('>');
    hex
}

// Drawing: one content stream per page, in top-down coordinates.

#[derive(Debug, Default)]
struct Page {
    content: String,
    uses_cjk: bool,
}

impl Page {
    fn fill_rect(&mut self, x: f64, top: f64, width: f64, height: f64, colour: Colour) {
        let _ = writeln!(
            self.content,
            "q {} rg {} {} {} {} re f Q",
            colour_operands(colour),
            number(x),
            number(PAGE_HEIGHT - top - height),
            number(width),
            number(height)
        );
    }

    fn line(&mut self, from: (f64, f64), to: (f64, f64), width: f64, colour: Colour) {
        self.dashed_line(from, to, width, colour, None);
    }

    fn dashed_line(
        &mut self,
        from: (f64, f64),
        to: (f64, f64),
        width: f64,
        colour: Colour,
        dash: Option<(f64, f64)>,
    ) {
        let dash = dash
            .map_or(String::new(), |(on, off)| format!("[{} {}] 0 d ", number(on), number(off)));
        let _ = writeln!(
            self.content,
            "q {} RG {} w {dash}{} {} m {} {} l S Q",
            colour_operands(colour),
            number(width),
            number(from.0),
            number(PAGE_HEIGHT - from.1),
            number(to.0),
            number(PAGE_HEIGHT - to.1)
        );
    }

    fn fill_polygon(&mut self, points: &[(f64, f64)], colour: Colour) {
        let _ = write!(self.content, "q {} rg", colour_operands(colour));
        for (point_idx, (x, y)) in points.iter().enumerate() {
            let operator = if point_idx == 0 { "m" } else { "l" };
            let _ = write!(self.content, " {} {} {operator}", number(*x), number(PAGE_HEIGHT - y));
        }
        self.content.push_str(" h f Q\n");
    }

    /// A tone marker `size` points square with its top-left corner at (`x`, `top`).
    fn marker(&mut self, marker: svg::Marker, x: f64, top: f64, size: f64, colour: Colour) {
        let scale = size / 10.0;
        let _ = write!(self.content, "q {0} rg {0} RG", colour_operands(colour));
        if !marker.filled {
            let _ = write!(self.content, " {} w 1 J 1 j", number(svg::MARKER_STROKE_WIDTH * scale));
        }
        for points in marker.paths {
            for (point_idx, (marker_x, marker_y)) in points.iter().enumerate() {
                let operator = if point_idx == 0 { "m" } else { "l" };
                let _ = write!(
                    self.content,
                    " {} {} {operator}",
                    number(x + marker_x * scale),
                    number(PAGE_HEIGHT - top - marker_y * scale)
                );
            }
            if marker.filled {
                self.content.push_str(" h");
            }
        }
        self.content.push_str(if marker.filled { " f Q\n" } else { " S Q\n" });
    }

    /// One line of text starting at `x` on `baseline`; runs of CJK characters switch font.
    fn text(&mut self, x: f64, baseline: f64, style: TextStyle, text: &str) {
        if text.is_empty() {
            return;
        }
        let size = number(style.size);
        let colour = colour_operands(style.colour);
        let _ = write!(self.content, "q {colour} rg ");
        if style.font == Font::Bold {
            // The stroke colour is for CJK runs, which are emboldened by stroking.
            let _ = write!(self.content, "{colour} RG ");
        }
        let _ = write!(self.content, "BT {} {size} Tf ", style.font.resource_name());
        if style.letter_spacing != 0.0 {
            let _ = write!(self.content, "{} Tc ", number(style.letter_spacing));
        }
        let _ = write!(self.content, "{} {} Td", number(x), number(PAGE_HEIGHT - baseline));

        let mut win_ansi_run: Vec<u8> = Vec::new();
        let mut cjk_run = String::new();
        for character in text.chars() {
            match glyphs(character) {
                Glyphs::WinAnsi(code) => {
                    self.flush_cjk_run(&mut cjk_run, style, &size);
                    win_ansi_run.push(code);
                }
                Glyphs::Substitute(codes) => {
                    self.flush_cjk_run(&mut cjk_run, style, &size);
                    win_ansi_run.extend_from_slice(codes);
                }
                Glyphs::Cjk => {
                    if !win_ansi_run.is_empty() {
                        let _ = write!(self.content, " {} Tj", literal_string(&win_ansi_run));
                        win_ansi_run.clear();
                    }
                    if cjk_run.is_empty() {
                        let _ = write!(self.content, " {CJK_RESOURCE_NAME} {size} Tf");
                        if style.font == Font::Bold {
                            // STSong-Light has no bold face: fill and stroke the outlines.
                            let stroke_width = number(style.size * CJK_EMBOLDEN);
                            let _ = write!(self.content, " 2 Tr {stroke_width} w");
                        }
                        self.uses_cjk = true;
                    }
                    cjk_run.push(character);
                }
                Glyphs::Nothing => {}
            }
        }
        self.flush_cjk_run(&mut cjk_run, style, &size);
        if !win_ansi_run.is_empty() {
            let _ = write!(self.content, " {} Tj", literal_string(&win_ansi_run));
        }
        self.content.push_str(" ET Q\n");
    }

    /// Shows a pending CJK run as UTF-16BE codes and switches back to the Latin font.
    fn flush_cjk_run(&mut self, cjk_run: &mut String, style: TextStyle, size: &str) {
        if cjk_run.is_empty() {
            return;
        }
        self.content.push_str(" <");
        for unit in cjk_run.encode_utf16() {
            let _ = write!(self.content, "{unit:04X}");
        }
        self.content.push_str("> Tj");
        if style.font == Font::Bold {
            self.content.push_str(" 0 Tr");
        }
        let _ = write!(self.content, " {} {size} Tf", style.font.resource_name());
        cjk_run.clear();
    }

    fn text_right_aligned(&mut self, right: f64, baseline: f64, style: TextStyle, text: &str) {
        self.text(right - text_width(text, style), baseline, style, text);
    }

    fn text_centred(&mut self, centre: f64, baseline: f64, style: TextStyle, text: &str) {
        self.text(centre - text_width(text, style) / 2.0, baseline, style, text);
    }
}

// Layout: blocks flow down the page and move to a new page when they don't fit.

/// Styles shared by the blocks.
const BODY: TextStyle = TextStyle::new(Font::Regular, 9.5, svg::INK);
const BODY_LEADING: f64 = 14.0;
const SECTION_HEADING: TextStyle = TextStyle::new(Font::Bold, 13.0, svg::INK);
const SECTION_HEADING_LEADING: f64 = 17.0;
const CAPTION: TextStyle = TextStyle::new(Font::Bold, 9.5, svg::INK);
const CAPTION_LEADING: f64 = 14.0;
const SMALL: TextStyle = TextStyle::new(Font::Regular, 7.5, svg::MUTED);
const SMALL_LEADING: f64 = 10.0;
const CELL: TextStyle = TextStyle::new(Font::Regular, 8.3, svg::INK);
const CELL_LEADING: f64 = 11.0;
const CELL_HEADER: TextStyle =
    TextStyle::new(Font::Bold, 6.8, svg::MUTED).with_letter_spacing(0.35);
const CELL_HEADER_LEADING: f64 = 9.0;
const CELL_PADDING_X: f64 = 5.5;
const CELL_PADDING_Y: f64 = 4.5;
/// The room a tone marker takes before the text of a table cell.
const CELL_MARKER_SIZE: f64 = 6.0;
const CELL_MARKER_ROOM: f64 = 9.0;

#[derive(Debug)]
struct Layout {
    pages: Vec<Page>,
    /// The top of the free space on the last page.
    y: f64,
}

/// A table with its text wrapped to its columns.
#[derive(Debug)]
struct TableLayout {
    /// The left edge and width of each column.
    columns: Vec<(f64, f64)>,
    aligns: Vec<Align>,
    header: Vec<Vec<String>>,
    header_height: f64,
    rows: Vec<RowLayout>,
}

#[derive(Debug)]
struct RowLayout {
    cells: Vec<(Vec<String>, Tone)>,
    height: f64,
}

/// A figure card with its text wrapped to the card.
#[derive(Debug)]
struct FigureLayout {
    label: Vec<String>,
    value: String,
    value_style: TextStyle,
    detail: Vec<String>,
    height: f64,
}

const FIGURE_GAP: f64 = 9.0;
const FIGURE_STRIPE: f64 = 3.0;
const FIGURE_PADDING_LEFT: f64 = 11.0;
const FIGURE_PADDING_RIGHT: f64 = 9.0;
const FIGURE_PADDING_Y: f64 = 9.0;
const FIGURE_LABEL: TextStyle = TextStyle::new(Font::Bold, 7.5, svg::MUTED);
const FIGURE_VALUE_SIZE: f64 = 17.0;
const FIGURE_VALUE_LEADING: f64 = 23.0;
const FIGURE_MARKER_SIZE: f64 = 5.5;

const NOTE: TextStyle = TextStyle::new(Font::Regular, 9.0, svg::INK);
const NOTE_LEADING: f64 = 13.0;
const NOTE_PADDING_Y: f64 = 8.5;
const NOTE_MARKER_SIZE: f64 = 8.0;

impl Layout {
    fn new() -> Layout {
        Layout { pages: vec![Page::default()], y: CONTENT_TOP }
    }

    fn page(&mut self) -> &mut Page {
        self.pages.last_mut().expect("layout always has a page")
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = CONTENT_TOP;
    }

    fn at_page_top(&self) -> bool {
        self.y <= CONTENT_TOP
    }

    fn room(&self) -> f64 {
        CONTENT_BOTTOM - self.y
    }

    /// Moves to a new page unless `height` fits below, or the page is still empty.
    /// A block taller than a whole page is split anyway, so it starts here when a few lines
    /// still fit.
    fn keep_together(&mut self, height: f64) {
        let fits_on_an_empty_page = height <= CONTENT_BOTTOM - CONTENT_TOP;
        if height > self.room()
            && !self.at_page_top()
            && (fits_on_an_empty_page || self.room() < 72.0)
        {
            self.new_page();
        }
    }

    /// A line across the content width at the top of the free space.
    fn horizontal_rule(&mut self, thickness: f64, colour: Colour) {
        let y = self.y;
        self.page().line((CONTENT_LEFT, y), (CONTENT_RIGHT, y), thickness, colour);
    }

    fn masthead(&mut self, doc: &Doc) {
        if !doc.issuer.is_empty() {
            let issuer_style =
                TextStyle::new(Font::Bold, 7.5, svg::ACCENT).with_letter_spacing(0.9);
            let issuer = truncate(&doc.issuer.to_uppercase(), issuer_style, CONTENT_WIDTH);
            let baseline = issuer_style.baseline(self.y, 10.0);
            self.page().text(CONTENT_LEFT, baseline, issuer_style, &issuer);
            self.y += 18.0;
        }
        let title_style = TextStyle::new(Font::Bold, 22.0, svg::INK);
        for line in wrap_at_most(&doc.title, title_style, CONTENT_WIDTH, 4) {
            let baseline = title_style.baseline(self.y, 27.0);
            self.page().text(CONTENT_LEFT, baseline, title_style, &line);
            self.y += 27.0;
        }
        if !doc.subtitle.is_empty() {
            let subtitle_style = TextStyle::new(Font::Regular, 12.5, svg::MUTED);
            self.y += 1.0;
            for line in wrap_at_most(&doc.subtitle, subtitle_style, CONTENT_WIDTH, 3) {
                let baseline = subtitle_style.baseline(self.y, 17.0);
                self.page().text(CONTENT_LEFT, baseline, subtitle_style, &line);
                self.y += 17.0;
            }
        }
        if !doc.meta.is_empty() {
            self.meta_grid(&doc.meta);
        }
        self.y += 12.0;
        let top = self.y;
        self.page().fill_rect(CONTENT_LEFT, top, CONTENT_WIDTH, 2.0, svg::ACCENT);
        self.y += 2.0 + 8.0;
    }

    /// The facts under the title, up to four to a row, between two rules.
    fn meta_grid(&mut self, meta: &[(String, String)]) {
        const GAP: f64 = 16.0;
        let term_style = TextStyle::new(Font::Bold, 6.5, svg::MUTED).with_letter_spacing(0.45);
        let description_style = TextStyle::new(Font::Regular, 9.0, svg::INK);
        let n_columns = meta.len().min(4);
        let column_width = (CONTENT_WIDTH - GAP * (n_columns - 1) as f64) / n_columns as f64;

        self.y += 14.0;
        self.horizontal_rule(0.6, svg::RULE);
        self.y += 9.0;
        for (row_idx, row) in meta.chunks(n_columns).enumerate() {
            if row_idx > 0 {
                self.y += 7.0;
            }
            let descriptions: Vec<Vec<String>> = row
                .iter()
                .map(|(_, description)| {
                    wrap_at_most(description, description_style, column_width, 3)
                })
                .collect();
            let n_lines = descriptions.iter().map(Vec::len).max().unwrap_or(1);
            let row_height = 11.0 + 12.0 * n_lines as f64;
            self.keep_together(row_height);
            for (column_idx, ((term, _), lines)) in row.iter().zip(&descriptions).enumerate() {
                let x = CONTENT_LEFT + (column_width + GAP) * column_idx as f64;
                let term = truncate(&term.to_uppercase(), term_style, column_width);
                let term_baseline = term_style.baseline(self.y, 9.0);
                self.page().text(x, term_baseline, term_style, &term);
                for (line_idx, line) in lines.iter().enumerate() {
                    let top = self.y + 11.0 + 12.0 * line_idx as f64;
                    let baseline = description_style.baseline(top, 12.0);
                    self.page().text(x, baseline, description_style, line);
                }
            }
            self.y += row_height;
        }
    }

    fn section(&mut self, section: &Section) {
        if !self.at_page_top() {
            self.y += 10.0;
        }
        let heading_lines = wrap(&section.title, SECTION_HEADING, CONTENT_WIDTH);
        let heading_height = SECTION_HEADING_LEADING * heading_lines.len() as f64 + 12.0;
        self.keep_together(heading_height + self.section_lead_height(&section.blocks));
        for line in &heading_lines {
            let baseline = SECTION_HEADING.baseline(self.y, SECTION_HEADING_LEADING);
            self.page().text(CONTENT_LEFT, baseline, SECTION_HEADING, line);
            self.y += SECTION_HEADING_LEADING;
        }
        self.y += 3.0;
        self.horizontal_rule(0.6, svg::RULE);
        self.y += 9.0;
        for (block_idx, block) in section.blocks.iter().enumerate() {
            if block_idx > 0 {
                self.y += BLOCK_GAP;
            }
            match block {
                Block::Figures(figures) => self.figures(figures),
                Block::Paragraph(text) => self.paragraph(text),
                Block::Note(tone, text) => self.note(*tone, text),
                Block::Table(table) => self.table(table),
                Block::Bars(chart) => self.chart(chart),
            }
        }
        self.y += BLOCK_GAP;
    }

    /// The height of the start of a section that must stay with its heading: the first
    /// block's start, or all of a short introduction plus the start of the block it introduces.
    fn section_lead_height(&self, blocks: &[Block]) -> f64 {
        match blocks {
            [] => 0.0,
            [Block::Paragraph(text), introduced, ..] => {
                let n_lines = wrap(text, BODY, CONTENT_WIDTH).len();
                if n_lines <= 3 {
                    BODY_LEADING * n_lines as f64 + BLOCK_GAP + self.lead_height(introduced)
                } else {
                    BODY_LEADING * 2.0
                }
            }
            [first, ..] => self.lead_height(first),
        }
    }

    /// The height of a block's first part that must stay with the heading above it.
    fn lead_height(&self, block: &Block) -> f64 {
        match block {
            Block::Figures(figures) => figure_rows(figures)
                .first()
                .map_or(0.0, |row| row.iter().map(|card| card.height).fold(0.0, f64::max)),
            Block::Paragraph(text) => {
                let n_lines = wrap(text, BODY, CONTENT_WIDTH).len().min(2);
                BODY_LEADING * n_lines as f64
            }
            Block::Note(tone, text) => note_height(wrap(text, NOTE, note_text_width(*tone)).len()),
            Block::Table(table) => {
                let table_layout = table_layout(table);
                let first_row_height =
                    table_layout.rows.first().map_or(empty_row_height(), |row| row.height);
                table_layout.header_height + first_row_height
            }
            Block::Bars(chart) => chart_height(chart),
        }
    }

    fn paragraph(&mut self, text: &str) {
        let lines = wrap(text, BODY, CONTENT_WIDTH);
        // Keep the first two lines together, so no line is left alone at a page's foot.
        self.keep_together(BODY_LEADING * lines.len().min(2) as f64);
        for line in &lines {
            if BODY_LEADING > self.room() {
                self.new_page();
            }
            let baseline = BODY.baseline(self.y, BODY_LEADING);
            self.page().text(CONTENT_LEFT, baseline, BODY, line);
            self.y += BODY_LEADING;
        }
    }

    fn note(&mut self, tone: Tone, text: &str) {
        let lines = wrap(text, NOTE, note_text_width(tone));
        self.keep_together(note_height(lines.len()));
        let text_style = NOTE.with_colour(svg::INK);
        let mut remaining: &[String] = &lines;
        while !remaining.is_empty() {
            // A note taller than a page continues on the next one.
            let lines_that_fit = ((self.room() - 2.0 * NOTE_PADDING_Y) / NOTE_LEADING).floor();
            let n_lines = (lines_that_fit.max(1.0) as usize).min(remaining.len());
            let (these_lines, rest) = remaining.split_at(n_lines);
            let height = note_height(n_lines);
            let top = self.y;
            let page = self.page();
            page.fill_rect(CONTENT_LEFT, top, CONTENT_WIDTH, height, svg::tone_tint_colour(tone));
            page.fill_rect(CONTENT_LEFT, top, FIGURE_STRIPE, height, svg::tone_fill_colour(tone));
            let is_first_part = remaining.len() == lines.len();
            if let (true, Some(marker)) = (is_first_part, svg::tone_marker(tone)) {
                let first_baseline = text_style.baseline(top + NOTE_PADDING_Y, NOTE_LEADING);
                page.marker(
                    marker,
                    CONTENT_LEFT + 12.0,
                    first_baseline - NOTE_MARKER_SIZE + 0.5,
                    NOTE_MARKER_SIZE,
                    svg::tone_text_colour(tone),
                );
            }
            for (line_idx, line) in these_lines.iter().enumerate() {
                let line_top = top + NOTE_PADDING_Y + NOTE_LEADING * line_idx as f64;
                let baseline = text_style.baseline(line_top, NOTE_LEADING);
                page.text(CONTENT_LEFT + note_text_indent(tone), baseline, text_style, line);
            }
            self.y += height;
            remaining = rest;
            if !remaining.is_empty() {
                self.new_page();
            }
        }
    }

    fn figures(&mut self, figures: &[Figure]) {
        let rows = figure_rows(figures);
        let n_per_row = rows.first().map_or(1, Vec::len);
        let card_width = figure_card_width(n_per_row);
        let mut figure_idx = 0;
        for (row_idx, row) in rows.iter().enumerate() {
            if row_idx > 0 {
                self.y += FIGURE_GAP;
            }
            let row_height = row.iter().map(|card| card.height).fold(0.0, f64::max);
            self.keep_together(row_height);
            for (column_idx, card) in row.iter().enumerate() {
                let x = CONTENT_LEFT + (card_width + FIGURE_GAP) * column_idx as f64;
                self.figure_card(&figures[figure_idx], card, x, card_width, row_height);
                figure_idx += 1;
            }
            self.y += row_height;
        }
    }

    fn figure_card(
        &mut self,
        figure: &Figure,
        card: &FigureLayout,
        x: f64,
        width: f64,
        height: f64,
    ) {
        let top = self.y;
        let page = self.page();
        page.fill_rect(x, top, width, height, SOFT);
        page.fill_rect(x, top, FIGURE_STRIPE, height, svg::tone_fill_colour(figure.tone));
        let text_x = x + FIGURE_STRIPE + FIGURE_PADDING_LEFT;
        let mut line_top = top + FIGURE_PADDING_Y;
        for line in &card.label {
            page.text(text_x, FIGURE_LABEL.baseline(line_top, SMALL_LEADING), FIGURE_LABEL, line);
            line_top += SMALL_LEADING;
        }
        let value_baseline = card.value_style.baseline(line_top, FIGURE_VALUE_LEADING);
        page.text(text_x, value_baseline, card.value_style, &card.value);
        line_top += FIGURE_VALUE_LEADING;
        let marker = svg::tone_marker(figure.tone);
        let detail_x = text_x + if marker.is_some() { FIGURE_MARKER_SIZE + 3.5 } else { 0.0 };
        for (line_idx, line) in card.detail.iter().enumerate() {
            let baseline = SMALL.baseline(line_top, SMALL_LEADING);
            if let (0, Some(marker)) = (line_idx, marker) {
                page.marker(
                    marker,
                    text_x,
                    baseline - FIGURE_MARKER_SIZE,
                    FIGURE_MARKER_SIZE,
                    svg::tone_text_colour(figure.tone),
                );
            }
            page.text(detail_x, baseline, SMALL, line);
            line_top += SMALL_LEADING;
        }
    }

    fn table(&mut self, table: &Table) {
        if table.columns.is_empty() {
            return;
        }
        let table_layout = table_layout(table);
        let first_row_height =
            table_layout.rows.first().map_or(empty_row_height(), |row| row.height);
        self.keep_together(table_layout.header_height + first_row_height);
        self.table_header(&table_layout);
        if table_layout.rows.is_empty() {
            let top = self.y;
            let height = empty_row_height();
            let baseline = CELL.baseline(top + CELL_PADDING_Y + 3.0, CELL_LEADING);
            let empty_style = CELL.with_colour(svg::MUTED);
            let text = truncate(&table.empty, empty_style, CONTENT_WIDTH - 2.0 * CELL_PADDING_X);
            let page = self.page();
            page.text_centred(CONTENT_LEFT + CONTENT_WIDTH / 2.0, baseline, empty_style, &text);
            page.line((CONTENT_LEFT, top + height), (CONTENT_RIGHT, top + height), 0.5, HAIRLINE);
            self.y += height;
            return;
        }
        for (row_idx, row) in table_layout.rows.iter().enumerate() {
            if row.height > self.room() {
                self.new_page();
                self.table_header(&table_layout);
            }
            let top = self.y;
            let page = self.pages.last_mut().expect("layout always has a page");
            if row_idx % 2 == 1 {
                page.fill_rect(CONTENT_LEFT, top, CONTENT_WIDTH, row.height, ZEBRA);
            }
            for (column_idx, (lines, tone)) in row.cells.iter().enumerate() {
                let (column_x, column_width) = table_layout.columns[column_idx];
                let align = table_layout.aligns[column_idx];
                draw_cell(page, lines, *tone, align, column_x, column_width, top);
            }
            page.line(
                (CONTENT_LEFT, top + row.height),
                (CONTENT_RIGHT, top + row.height),
                0.5,
                HAIRLINE,
            );
            self.y += row.height;
        }
    }

    fn table_header(&mut self, table_layout: &TableLayout) {
        let top = self.y;
        let height = table_layout.header_height;
        let page = self.page();
        page.fill_rect(CONTENT_LEFT, top, CONTENT_WIDTH, height, TABLE_HEADER);
        for (column_idx, lines) in table_layout.header.iter().enumerate() {
            let (column_x, column_width) = table_layout.columns[column_idx];
            // Headings sit on the bottom of the header row, like the cells' first lines.
            let first_top =
                top + height - CELL_PADDING_Y - CELL_HEADER_LEADING * lines.len() as f64;
            for (line_idx, line) in lines.iter().enumerate() {
                let line_top = first_top + CELL_HEADER_LEADING * line_idx as f64;
                let baseline = CELL_HEADER.baseline(line_top, CELL_HEADER_LEADING);
                match table_layout.aligns[column_idx] {
                    Align::Left => {
                        page.text(column_x + CELL_PADDING_X, baseline, CELL_HEADER, line)
                    }
                    Align::Right => page.text_right_aligned(
                        column_x + column_width - CELL_PADDING_X,
                        baseline,
                        CELL_HEADER,
                        line,
                    ),
                }
            }
        }
        page.line((CONTENT_LEFT, top + height), (CONTENT_RIGHT, top + height), 0.75, svg::RULE);
        self.y += height;
    }

    fn chart(&mut self, chart: &BarChart) {
        self.keep_together(chart_height(chart));
        if !chart.title.is_empty() {
            for line in wrap(&chart.title, CAPTION, CONTENT_WIDTH) {
                let baseline = CAPTION.baseline(self.y, CAPTION_LEADING);
                self.page().text(CONTENT_LEFT, baseline, CAPTION, &line);
                self.y += CAPTION_LEADING;
            }
            self.y += 4.0;
        }
        let chart_layout = svg::layout(chart);
        let scale = CONTENT_WIDTH / svg::CHART_WIDTH;
        let origin_y = self.y;
        let at = |x: f64, y: f64| (CONTENT_LEFT + x * scale, origin_y + y * scale);
        let page = self.pages.last_mut().expect("layout always has a page");

        page.line(
            at(chart_layout.plot_left, chart_layout.plot_top),
            at(chart_layout.plot_right, chart_layout.plot_top),
            0.6,
            svg::GRID,
        );
        page.line(
            at(chart_layout.plot_left, chart_layout.plot_bottom),
            at(chart_layout.plot_right, chart_layout.plot_bottom),
            0.75,
            svg::MUTED,
        );
        let axis_style = TextStyle::new(Font::Regular, svg::AXIS_FONT_SIZE * scale, svg::MUTED);
        for axis_label in &chart_layout.axis_labels {
            let (right, y) = at(chart_layout.plot_left - 6.0, axis_label.y);
            let baseline = y + 0.35 * axis_style.size;
            page.text_right_aligned(right, baseline, axis_style, &axis_label.text);
        }
        for shape in &chart_layout.bars {
            let (x, top) = at(shape.x, shape.y);
            page.fill_rect(x, top, shape.width * scale, shape.height * scale, shape.fill);
            if shape.below_floor {
                let triangle = shape
                    .below_floor_triangle()
                    .map(|(triangle_x, triangle_y)| at(triangle_x, triangle_y));
                page.fill_polygon(&triangle, shape.fill);
            }
        }
        if let Some(target) = &chart_layout.target {
            page.dashed_line(
                at(chart_layout.plot_left, target.y),
                at(chart_layout.plot_right, target.y),
                1.25 * scale,
                svg::INK,
                Some((5.0 * scale, 3.0 * scale)),
            );
            let target_style = TextStyle::new(Font::Bold, svg::AXIS_FONT_SIZE * scale, svg::INK);
            let (x, y) = at(chart_layout.plot_right + 6.0, target.y);
            page.text(x, y + 0.35 * target_style.size, target_style, &target.text);
        }
        let label_style = TextStyle::new(Font::Regular, svg::LABEL_FONT_SIZE * scale, svg::MUTED);
        for bar_label in &chart_layout.bar_labels {
            let (x, baseline) = at(bar_label.x, svg::LABEL_BASELINE);
            page.text_centred(x, baseline, label_style, &bar_label.text);
        }
        self.y += svg::CHART_HEIGHT * scale;
    }

    /// Adds the running header and the footer with `n / m` to every page, now that the
    /// number of pages is known.
    fn finish(mut self, doc: &Doc) -> Vec<Page> {
        let n_pages = self.pages.len();
        let running_header_style = TextStyle::new(Font::Regular, 7.0, svg::MUTED);
        let running_header = [doc.issuer.as_str(), doc.title.as_str(), doc.subtitle.as_str()]
            .into_iter()
            .filter(|text| !text.is_empty())
            .collect::<Vec<_>>()
            .join(" · ");
        let running_header = truncate(&running_header, running_header_style, CONTENT_WIDTH);
        let footer_style = TextStyle::new(Font::Regular, 7.0, svg::MUTED);
        let page_number_style = TextStyle::new(Font::Bold, 7.0, svg::MUTED);
        let footer_lines = wrap_at_most(&doc.footer, footer_style, CONTENT_WIDTH - 60.0, 2);
        for (page_idx, page) in self.pages.iter_mut().enumerate() {
            if page_idx > 0 {
                page.text(CONTENT_LEFT, CONTENT_TOP - 17.0, running_header_style, &running_header);
                page.line(
                    (CONTENT_LEFT, CONTENT_TOP - 11.0),
                    (CONTENT_RIGHT, CONTENT_TOP - 11.0),
                    0.5,
                    HAIRLINE,
                );
            }
            let rule_y = CONTENT_BOTTOM + 14.0;
            page.line((CONTENT_LEFT, rule_y), (CONTENT_RIGHT, rule_y), 0.5, svg::RULE);
            for (line_idx, line) in footer_lines.iter().enumerate() {
                page.text(CONTENT_LEFT, rule_y + 10.0 + 9.0 * line_idx as f64, footer_style, line);
            }
            let page_number = format!("{} / {n_pages}", page_idx + 1);
            page.text_right_aligned(CONTENT_RIGHT, rule_y + 10.0, page_number_style, &page_number);
        }
        self.pages
    }
}

fn draw_cell(
    page: &mut Page,
    lines: &[String],
    tone: Tone,
    align: Align,
    column_x: f64,
    column_width: f64,
    top: f64,
) {
    let style = cell_style(tone);
    let marker = svg::tone_marker(tone);
    let marker_room = if marker.is_some() { CELL_MARKER_ROOM } else { 0.0 };
    for (line_idx, line) in lines.iter().enumerate() {
        let line_top = top + CELL_PADDING_Y + CELL_LEADING * line_idx as f64;
        let baseline = style.baseline(line_top, CELL_LEADING);
        let x = match align {
            Align::Left => column_x + CELL_PADDING_X + marker_room,
            Align::Right => column_x + column_width - CELL_PADDING_X - text_width(line, style),
        };
        if let (0, Some(marker)) = (line_idx, marker) {
            page.marker(
                marker,
                x - CELL_MARKER_ROOM,
                baseline - CELL_MARKER_SIZE,
                CELL_MARKER_SIZE,
                style.colour,
            );
        }
        page.text(x, baseline, style, line);
    }
}

/// Toned cells are bold and coloured; the marker says the same without colour.
fn cell_style(tone: Tone) -> TextStyle {
    match tone {
        Tone::Neutral => CELL,
        _ => TextStyle { font: Font::Bold, ..CELL.with_colour(svg::tone_text_colour(tone)) },
    }
}

fn empty_row_height() -> f64 {
    CELL_LEADING + 2.0 * CELL_PADDING_Y + 6.0
}

fn table_layout(table: &Table) -> TableLayout {
    let total_weight: f64 =
        table.columns.iter().map(|column| f64::from(column.weight.max(1))).sum();
    let mut columns = Vec::with_capacity(table.columns.len());
    let mut x = CONTENT_LEFT;
    for column in &table.columns {
        let width = CONTENT_WIDTH * f64::from(column.weight.max(1)) / total_weight;
        columns.push((x, width));
        x += width;
    }
    let aligns: Vec<Align> = table.columns.iter().map(|column| column.align).collect();
    let header: Vec<Vec<String>> = table
        .columns
        .iter()
        .zip(&columns)
        .map(|(column, (_, width))| {
            wrap_at_most(&column.title.to_uppercase(), CELL_HEADER, width - 2.0 * CELL_PADDING_X, 3)
        })
        .collect();
    let n_header_lines = header.iter().map(Vec::len).max().unwrap_or(1);
    let header_height = CELL_HEADER_LEADING * n_header_lines as f64 + 2.0 * CELL_PADDING_Y + 1.0;
    // A row never outgrows an empty page under the repeated header; longer cells are cut.
    let max_row_height = CONTENT_BOTTOM - CONTENT_TOP - header_height;
    let max_lines = ((max_row_height - 2.0 * CELL_PADDING_Y) / CELL_LEADING).floor() as usize;
    let blank = Cell::default();
    let rows = table
        .rows
        .iter()
        .map(|row| {
            let cells: Vec<(Vec<String>, Tone)> = columns
                .iter()
                .enumerate()
                .map(|(column_idx, (_, width))| {
                    let cell = row.get(column_idx).unwrap_or(&blank);
                    let marker_room =
                        if svg::tone_marker(cell.tone).is_some() { CELL_MARKER_ROOM } else { 0.0 };
                    let text_width = width - 2.0 * CELL_PADDING_X - marker_room;
                    (
                        wrap_at_most(&cell.text, cell_style(cell.tone), text_width, max_lines),
                        cell.tone,
                    )
                })
                .collect();
            let n_lines = cells.iter().map(|(lines, _)| lines.len()).max().unwrap_or(1);
            RowLayout { cells, height: CELL_LEADING * n_lines as f64 + 2.0 * CELL_PADDING_Y }
        })
        .collect();
    TableLayout { columns, aligns, header, header_height, rows }
}

/// Splits figures into balanced rows of at most four cards: five give three and two.
fn figure_rows(figures: &[Figure]) -> Vec<Vec<FigureLayout>> {
    if figures.is_empty() {
        return Vec::new();
    }
    let n_rows = figures.len().div_ceil(4);
    let n_per_row = figures.len().div_ceil(n_rows);
    let card_width = figure_card_width(n_per_row);
    let text_width = card_width - FIGURE_STRIPE - FIGURE_PADDING_LEFT - FIGURE_PADDING_RIGHT;
    figures
        .chunks(n_per_row)
        .map(|row| row.iter().map(|figure| figure_layout(figure, text_width)).collect())
        .collect()
}

fn figure_card_width(n_per_row: usize) -> f64 {
    let n_per_row = n_per_row.max(1) as f64;
    (CONTENT_WIDTH - FIGURE_GAP * (n_per_row - 1.0)) / n_per_row
}

fn figure_layout(figure: &Figure, max_width: f64) -> FigureLayout {
    let label = wrap_at_most(&figure.label, FIGURE_LABEL, max_width, 2);
    // A long value shrinks to fit before it is cut.
    let mut value_style =
        TextStyle::new(Font::Bold, FIGURE_VALUE_SIZE, svg::tone_text_colour(figure.tone));
    while value_style.size > 11.0 && text_width(&figure.value, value_style) > max_width {
        value_style.size -= 1.0;
    }
    let value = truncate(&figure.value, value_style, max_width);
    let marker_room =
        if svg::tone_marker(figure.tone).is_some() { FIGURE_MARKER_SIZE + 3.5 } else { 0.0 };
    let detail = if figure.detail.is_empty() {
        Vec::new()
    } else {
        wrap_at_most(&figure.detail, SMALL, max_width - marker_room, 3)
    };
    let height = 2.0 * FIGURE_PADDING_Y
        + SMALL_LEADING * (label.len() + detail.len()) as f64
        + FIGURE_VALUE_LEADING;
    FigureLayout { label, value, value_style, detail, height }
}

/// Where a note's text starts: after the marker, or after the padding when there is none.
fn note_text_indent(tone: Tone) -> f64 {
    if svg::tone_marker(tone).is_some() { 29.0 } else { 15.0 }
}

fn note_text_width(tone: Tone) -> f64 {
    CONTENT_WIDTH - note_text_indent(tone) - 12.0
}

fn note_height(n_lines: usize) -> f64 {
    2.0 * NOTE_PADDING_Y + NOTE_LEADING * n_lines as f64
}

fn chart_height(chart: &BarChart) -> f64 {
    let caption_height = if chart.title.is_empty() {
        0.0
    } else {
        CAPTION_LEADING * wrap(&chart.title, CAPTION, CONTENT_WIDTH).len() as f64 + 4.0
    };
    caption_height + svg::CHART_HEIGHT * CONTENT_WIDTH / svg::CHART_WIDTH
}

// The file: objects, cross-reference table and trailer.

/// Collects numbered objects and remembers where each starts.
#[derive(Debug)]
struct ObjectWriter {
    bytes: Vec<u8>,
    /// Invariant: the byte offset of object `n` is at index `n - 1`.
    offsets: Vec<usize>,
}

impl ObjectWriter {
    fn new() -> ObjectWriter {
        // The comment with bytes above 127 tells transfer tools that the file is binary.
        let mut bytes = b"%PDF-1.7\n%".to_vec();
        bytes.extend_from_slice(&[0xe2, 0xe3, 0xcf, 0xd3]);
        bytes.push(b'\n');
        ObjectWriter { bytes, offsets: Vec::new() }
    }

    /// Writes the next object; objects must be written in number order.
    fn object(&mut self, number: usize, body: &str) {
        assert_eq!(number, self.offsets.len() + 1, "objects are written in number order");
        self.offsets.push(self.bytes.len());
        self.bytes.extend_from_slice(format!("{number} 0 obj\n{body}\nendobj\n").as_bytes());
    }

    fn stream(&mut self, number: usize, content: &str) {
        let body = format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len());
        self.object(number, &body);
    }

    fn finish(mut self, root: usize, info: usize) -> Vec<u8> {
        let xref_offset = self.bytes.len();
        let n_entries = self.offsets.len() + 1;
        let mut xref = format!("xref\n0 {n_entries}\n0000000000 65535 f\r\n");
        for offset in &self.offsets {
            let _ = write!(xref, "{offset:010} 00000 n\r\n");
        }
        let _ = write!(
            xref,
            "trailer\n<< /Size {n_entries} /Root {root} 0 R /Info {info} 0 R >>\n\
             startxref\n{xref_offset}\n%%EOF\n"
        );
        self.bytes.extend_from_slice(xref.as_bytes());
        self.bytes
    }
}

fn write_file(doc: &Doc, pages: &[Page]) -> Vec<u8> {
    const CATALOG: usize = 1;
    const PAGE_TREE: usize = 2;
    const INFO: usize = 3;
    const REGULAR_FONT: usize = 4;
    const BOLD_FONT: usize = 5;
    let uses_cjk = pages.iter().any(|page| page.uses_cjk);
    // The CJK font takes objects 6 to 8 when some text needs it.
    let first_page_object = if uses_cjk { 9 } else { 6 };
    let page_object = |page_idx: usize| first_page_object + 2 * page_idx;

    let mut writer = ObjectWriter::new();
    let lang = if doc.lang.is_empty() {
        String::new()
    } else {
        format!(" /Lang {}", text_string(&doc.lang))
    };
    writer.object(
        CATALOG,
        &format!(
            "<< /Type /Catalog /Pages {PAGE_TREE} 0 R{lang} \
             /ViewerPreferences << /DisplayDocTitle true >> >>"
        ),
    );
    let kids = (0..pages.len())
        .map(|page_idx| format!("{} 0 R", page_object(page_idx)))
        .collect::<Vec<_>>()
        .join(" ");
    writer.object(PAGE_TREE, &format!("<< /Type /Pages /Kids [{kids}] /Count {} >>", pages.len()));
    let title = [doc.title.as_str(), doc.subtitle.as_str()]
        .into_iter()
        .filter(|text| !text.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    // No /CreationDate, /ModDate or /ID: the bytes must depend on the `Doc` alone.
    let mut info = format!("<< /Title {}", text_string(&title));
    if !doc.issuer.is_empty() {
        let issuer = text_string(&doc.issuer);
        let _ = write!(info, " /Author {issuer} /Creator {issuer}");
    }
    info.push_str(" /Producer (Accord) >>");
    writer.object(INFO, &info);
    writer.object(
        REGULAR_FONT,
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    );
    writer.object(
        BOLD_FONT,
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    );
    let mut font_resources = format!("/F1 {REGULAR_FONT} 0 R /F2 {BOLD_FONT} 0 R");
    if uses_cjk {
        // Adobe's predefined CMap and a font every CJK-capable reader provides; nothing is
        // embedded, so readers substitute their own Song (Ming) face.
        writer.object(
            6,
            "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H \
             /DescendantFonts [7 0 R] >>",
        );
        writer.object(
            7,
            "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light \
             /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> \
             /FontDescriptor 8 0 R /DW 1000 >>",
        );
        writer.object(
            8,
            "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 \
             /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 \
             /CapHeight 880 /StemV 93 >>",
        );
        font_resources.push_str(" /F3 6 0 R");
    }
    for (page_idx, page) in pages.iter().enumerate() {
        let page_number = page_object(page_idx);
        writer.object(
            page_number,
            &format!(
                "<< /Type /Page /Parent {PAGE_TREE} 0 R /MediaBox [0 0 {} {}] \
                 /Resources << /Font << {font_resources} >> >> /Contents {} 0 R >>",
                number(PAGE_WIDTH),
                number(PAGE_HEIGHT),
                page_number + 1
            ),
        );
        writer.stream(page_number + 1, &page.content);
    }
    writer.finish(CATALOG, INFO)
}

/// Helvetica's advance widths for WinAnsi codes 32 to 255, from Adobe's core font metrics;
/// codes WinAnsi leaves unused carry the bullet's width.
#[rustfmt::skip]
const HELVETICA_WIDTHS: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 350,
    556, 350, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350,
    350, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 350, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];

/// Helvetica-Bold's advance widths for WinAnsi codes 32 to 255, from Adobe's AFM.
#[rustfmt::skip]
const HELVETICA_BOLD_WIDTHS: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 350,
    556, 350, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350,
    350, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 350, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];

/// A realistic monthly report for tests and for looking at the output.
#[cfg(test)]
pub(crate) mod sample {
    use super::super::doc::{Align, Tone};
    use super::super::doc::{Bar, BarChart, Block, Cell, Column, Doc, Figure, Section, Table};

    fn cell(text: &str) -> Cell {
        Cell { text: text.to_owned(), tone: Tone::Neutral }
    }

    fn toned(text: &str, tone: Tone) -> Cell {
        Cell { text: text.to_owned(), tone }
    }

    fn column(title: &str, align: Align, weight: u8) -> Column {
        Column { title: title.to_owned(), align, weight }
    }

    fn figure(label: &str, value: &str, detail: &str, tone: Tone) -> Figure {
        Figure { label: label.to_owned(), value: value.to_owned(), detail: detail.to_owned(), tone }
    }

    /// Acme's October report from Northwind: availability missed on two days, forty
    /// breaches, a credit, and satisfaction that disagrees with the green ticket SLAs.
    pub(crate) fn monthly_report() -> Doc {
        Doc {
            lang: "en".to_owned(),
            issuer: "Northwind Managed Services GmbH".to_owned(),
            title: "Service level report".to_owned(),
            subtitle: "Acme Corporation · October 2026".to_owned(),
            meta: vec![
                ("Period".to_owned(), "1–31 October 2026".to_owned()),
                ("Time zone".to_owned(), "Europe/Berlin".to_owned()),
                ("Agreement".to_owned(), "ACME-SLA-2026 rev. 4 (Gold)".to_owned()),
                ("Evidence".to_owned(), "Event log up to position 184 223".to_owned()),
            ],
            sections: vec![summary(), availability(), breaches(), credits(), satisfaction()],
            footer: "Computed from the event log up to position 184 223 \
                     (sha256 3f9a6c1e…c21e). Anyone with the log can recompute this report: \
                     accord report --customer acme --period 2026-10 --at 184223."
                .to_owned(),
        }
    }

    fn summary() -> Section {
        Section {
            title: "Summary".to_owned(),
            blocks: vec![
                Block::Figures(vec![
                    figure("Availability", "99.87 %", "target 99.9 % · missed", Tone::Bad),
                    figure("Tickets within SLA", "96.4 %", "target 95 % · met", Tone::Good),
                    figure("Breaches", "40", "12 resolution · 28 first response", Tone::Warn),
                    figure(
                        "Service credit",
                        "€ 1 840.00",
                        "10 % of the monthly fee",
                        Tone::Neutral,
                    ),
                ]),
                Block::Paragraph(
                    "In October the managed e-mail and web hosting services were available for \
                     99.87 % of the agreed service time, below the 99.9 % target because of two \
                     incidents on 7 and 19 October. Ticket handling met its targets overall, but \
                     forty individual tickets missed a first-response or resolution deadline; \
                     they are listed below with their exact instants."
                        .to_owned(),
                ),
            ],
        }
    }

    fn availability() -> Section {
        let table = Table {
            columns: vec![
                column("Service", Align::Left, 4),
                column("Target", Align::Right, 2),
                column("Measured", Align::Right, 2),
                column("Downtime", Align::Right, 2),
                column("Error budget used", Align::Right, 3),
                column("Status", Align::Left, 2),
            ],
            rows: vec![
                vec![
                    cell("E-mail (Exchange Online relay)"),
                    cell("99.9 %"),
                    toned("99.71 %", Tone::Bad),
                    cell("2 h 09 min"),
                    toned("290 %", Tone::Bad),
                    toned("missed", Tone::Bad),
                ],
                vec![
                    cell("Web hosting"),
                    cell("99.9 %"),
                    toned("99.93 %", Tone::Warn),
                    cell("31 min"),
                    toned("70 %", Tone::Warn),
                    toned("met", Tone::Good),
                ],
                vec![
                    cell("VPN gateway"),
                    cell("99.5 %"),
                    toned("100 %", Tone::Good),
                    cell("0 min"),
                    cell("0 %"),
                    toned("met", Tone::Good),
                ],
                vec![
                    cell("Backup and restore"),
                    cell("99.0 %"),
                    toned("99.98 %", Tone::Good),
                    cell("9 min"),
                    cell("2 %"),
                    toned("met", Tone::Good),
                ],
            ],
            empty: "No services with an availability target.".to_owned(),
        };
        let bars = (1..=31)
            .map(|day: u32| {
                let (value, tone) = match day {
                    7 => (Some(98.21), Tone::Bad),
                    19 => (Some(99.42), Tone::Bad),
                    12 => (Some(99.93), Tone::Warn),
                    26 => (None, Tone::Neutral),
                    _ => (Some(99.95 + f64::from(day % 5) * 0.01), Tone::Good),
                };
                let tip = match value {
                    Some(value) => format!("{day} Oct: {value:.2} %"),
                    None => format!("{day} Oct: no data"),
                };
                Bar { label: day.to_string(), tip, value, tone }
            })
            .collect();
        let chart = BarChart {
            title: "Availability per day".to_owned(),
            alt: "Daily availability of all services in October 2026, between 99 % and 100 %; \
                  the lowest days are 7 October (98.21 %) and 19 October (99.42 %); no data \
                  on 26 October."
                .to_owned(),
            unit: "%".to_owned(),
            floor: 99.0,
            ceiling: 100.0,
            target: Some(99.9),
            bars,
        };
        Section {
            title: "Availability".to_owned(),
            blocks: vec![Block::Table(table), Block::Bars(chart)],
        }
    }

    fn breaches() -> Section {
        let services = ["E-mail", "Web hosting", "VPN gateway", "Backup and restore"];
        let rows = (0..40)
            .map(|breach_idx: u32| {
                let day = 1 + breach_idx * 3 / 4;
                let is_resolution = breach_idx % 10 < 3;
                let priority = ["P1", "P2", "P2", "P3", "P3", "P4"][(breach_idx % 6) as usize];
                let overrun_minutes = 7 + (breach_idx * 37) % 190;
                vec![
                    cell(&format!("INC-{}", 20_481 + breach_idx * 17)),
                    cell(priority),
                    cell(if is_resolution { "Resolution" } else { "First response" }),
                    cell(services[(breach_idx % 4) as usize]),
                    cell(&format!(
                        "{day:02} Oct {:02}:{:02}",
                        8 + breach_idx % 9,
                        (breach_idx * 13) % 60
                    )),
                    toned(
                        &format!("+{} h {:02} min", overrun_minutes / 60, overrun_minutes % 60),
                        if overrun_minutes > 120 { Tone::Bad } else { Tone::Warn },
                    ),
                ]
            })
            .collect();
        Section {
            title: "Breaches".to_owned(),
            blocks: vec![
                Block::Paragraph(
                    "Each breach is a clock that passed its deadline in business hours \
                     (Mon–Fri 08:00–18:00, German public holidays excluded)."
                        .to_owned(),
                ),
                Block::Table(Table {
                    columns: vec![
                        column("Ticket", Align::Left, 3),
                        column("Priority", Align::Left, 2),
                        column("Clock", Align::Left, 3),
                        column("Service", Align::Left, 4),
                        column("Deadline", Align::Right, 3),
                        column("Overrun", Align::Right, 3),
                    ],
                    rows,
                    empty: "No breaches in the period.".to_owned(),
                }),
            ],
        }
    }

    fn credits() -> Section {
        Section {
            title: "Service credits".to_owned(),
            blocks: vec![
                Block::Table(Table {
                    columns: vec![
                        column("Clause", Align::Left, 1),
                        column("Condition", Align::Left, 4),
                        column("Measured", Align::Right, 2),
                        column("Credit", Align::Right, 1),
                        column("Amount", Align::Right, 2),
                    ],
                    rows: vec![
                        vec![
                            cell("§ 7.2"),
                            cell("Monthly availability of a Gold service below 99.9 %"),
                            toned("99.87 %", Tone::Bad),
                            cell("10 %"),
                            cell("€ 1 840.00"),
                        ],
                        vec![
                            cell("§ 7.3"),
                            cell("More than 5 % of P1 tickets resolved late"),
                            toned("4.2 %", Tone::Good),
                            cell("0 %"),
                            cell("€ 0.00"),
                        ],
                        vec![
                            cell(""),
                            toned(
                                "Total (capped at 25 % of the fee of € 18 400.00)",
                                Tone::Neutral,
                            ),
                            cell(""),
                            cell("10 %"),
                            toned("€ 1 840.00", Tone::Bad),
                        ],
                    ],
                    empty: "No credits in the period.".to_owned(),
                }),
                Block::Note(
                    Tone::Neutral,
                    "Credits are settled on the next invoice and are the customer’s sole \
                     remedy for missed service levels (§ 7.6)."
                        .to_owned(),
                ),
            ],
        }
    }

    fn satisfaction() -> Section {
        Section {
            title: "Customer satisfaction".to_owned(),
            blocks: vec![
                Block::Figures(vec![
                    figure("Satisfaction score", "3.1 / 5", "last month 4.2 · falling", Tone::Bad),
                    figure("Responses", "412", "38 % of solved tickets", Tone::Neutral),
                    figure("Unsatisfied", "31 %", "threshold 15 %", Tone::Bad),
                ]),
                Block::Note(
                    Tone::Warn,
                    "Watermelon warning: ticket SLAs are green (96.4 % within target) while \
                     customers rate the service poorly (3.1 of 5, down from 4.2). The contract \
                     is met on paper but the experience is not; review the reopened tickets and \
                     the comments in the satisfaction survey."
                        .to_owned(),
                ),
                Block::Table(Table {
                    columns: vec![
                        column("Service", Align::Left, 3),
                        column("Responses", Align::Right, 1),
                        column("Score", Align::Right, 1),
                        column("Unsatisfied", Align::Right, 1),
                    ],
                    rows: vec![
                        vec![
                            cell("E-mail"),
                            cell("188"),
                            toned("2.6", Tone::Bad),
                            toned("44 %", Tone::Bad),
                        ],
                        vec![
                            cell("Web hosting"),
                            cell("121"),
                            toned("3.4", Tone::Warn),
                            toned("24 %", Tone::Warn),
                        ],
                        vec![
                            cell("VPN gateway"),
                            cell("64"),
                            toned("4.1", Tone::Good),
                            toned("9 %", Tone::Good),
                        ],
                        vec![
                            cell("Backup and restore"),
                            cell("39"),
                            toned("4.4", Tone::Good),
                            toned("5 %", Tone::Good),
                        ],
                    ],
                    empty: "No survey responses in the period.".to_owned(),
                }),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::doc::{Column, Section};
    use super::*;

    fn render_text(doc: &Doc) -> String {
        String::from_utf8_lossy(&render(doc)).into_owned()
    }

    fn n_pages(pdf: &str) -> usize {
        pdf.matches("/Type /Page ").count()
    }

    fn long_table_doc(n_rows: usize) -> Doc {
        let table = Table {
            columns: vec![
                Column { title: "Ticket number".to_owned(), align: Align::Left, weight: 2 },
                Column { title: "Comment".to_owned(), align: Align::Left, weight: 5 },
                Column { title: "Overrun".to_owned(), align: Align::Right, weight: 1 },
            ],
            rows: (0..n_rows)
                .map(|row_idx| {
                    vec![
                        Cell { text: format!("INC-{row_idx}"), tone: Tone::Neutral },
                        Cell {
                            text: "waiting for the customer, then escalated ".repeat(row_idx % 4),
                            tone: Tone::Neutral,
                        },
                        Cell { text: format!("{row_idx} min"), tone: Tone::Bad },
                    ]
                })
                .collect(),
            empty: String::new(),
        };
        Doc {
            title: "Long".to_owned(),
            footer: "evidence".to_owned(),
            sections: vec![Section {
                title: "Breaches".to_owned(),
                blocks: vec![Block::Table(table)],
            }],
            ..Doc::default()
        }
    }

    #[test]
    fn file_has_header_and_trailer() {
        let pdf = render(&sample::monthly_report());
        assert!(pdf.starts_with(b"%PDF-1.7\n"));
        assert!(pdf.ends_with(b"%%EOF\n"));
    }

    #[test]
    fn xref_offsets_point_at_their_objects() {
        for doc in [sample::monthly_report(), Doc::default(), cjk_doc()] {
            let pdf = render(&doc);
            let startxref = pdf
                .windows(b"startxref\n".len())
                .rposition(|window| window == b"startxref\n")
                .expect("startxref");
            // Everything from the cross-reference table on is ASCII.
            let tail = std::str::from_utf8(&pdf[startxref..]).expect("ASCII trailer");
            let xref_offset: usize = tail.lines().nth(1).expect("offset").parse().expect("number");
            let xref = std::str::from_utf8(&pdf[xref_offset..]).expect("ASCII xref");
            assert!(xref.starts_with("xref\n0 "));
            let mut lines = xref.split('\n').skip(1);
            let header = lines.next().expect("subsection header");
            let n_entries: usize = header.split(' ').nth(1).expect("count").parse().expect("n");
            assert_eq!(lines.next(), Some("0000000000 65535 f\r"));
            for object_number in 1..n_entries {
                let entry = lines.next().expect("entry");
                assert_eq!(entry.len(), 19, "entries are 20 bytes with CR LF: {entry:?}");
                let offset: usize = entry[..10].parse().expect("offset");
                let expected = format!("{object_number} 0 obj\n");
                assert!(pdf[offset..].starts_with(expected.as_bytes()), "object {object_number}");
            }
            assert!(xref.contains(&format!("/Size {n_entries} ")));
        }
    }

    #[test]
    fn stream_lengths_match_their_content() {
        let pdf = render(&sample::monthly_report());
        let text = String::from_utf8_lossy(&pdf);
        let mut n_streams = 0;
        for (start, _) in text.match_indices("<< /Length ") {
            let rest = &text[start + "<< /Length ".len()..];
            let length: usize = rest[..rest.find(' ').expect("space")].parse().expect("length");
            let content_start = rest.find("stream\n").expect("stream") + "stream\n".len();
            assert!(rest[content_start + length..].starts_with("\nendstream"));
            n_streams += 1;
        }
        assert_eq!(n_streams, n_pages(&text));
    }

    #[test]
    fn long_table_continues_on_new_pages_under_its_header() {
        let pdf = render_text(&long_table_doc(120));
        let n_pages = n_pages(&pdf);
        assert!(n_pages > 1, "{n_pages} pages");
        assert_eq!(pdf.matches("(TICKET NUMBER) Tj").count(), n_pages);
        assert!(pdf.contains(&format!("(1 / {n_pages}) Tj")));
        assert!(pdf.contains(&format!("({n_pages} / {n_pages}) Tj")));
        assert_eq!(pdf.matches("(INC-119) Tj").count(), 1);
        assert_eq!(pdf.matches("(evidence) Tj").count(), n_pages);
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(render(&sample::monthly_report()), render(&sample::monthly_report()));
        let pdf = render_text(&sample::monthly_report());
        assert!(!pdf.contains("/CreationDate"));
        assert!(!pdf.contains("/ID"));
    }

    fn cjk_doc() -> Doc {
        Doc {
            lang: "zh-CN".to_owned(),
            title: "服务水平报告".to_owned(),
            subtitle: "Acme 公司 · 2026年10月".to_owned(),
            sections: vec![Section {
                title: "可用性 ≥ 99.9 %".to_owned(),
                blocks: vec![Block::Paragraph("本月可用性为 99.87 %，低于目标。".repeat(20))],
            }],
            ..Doc::default()
        }
    }

    #[test]
    fn cjk_text_uses_the_cjk_font() {
        let pdf = render_text(&cjk_doc());
        assert!(pdf.contains("/BaseFont /STSong-Light /Encoding /UniGB-UTF16-H"));
        // 服务 is U+670D U+52A1.
        assert!(pdf.contains("/F3 22 Tf 2 Tr 0.77 w <670D52A1"));
        assert!(pdf.contains("( >= 99.9 %) Tj"));
        assert!(pdf.contains("/Lang (zh-CN)"));
        assert!(!render_text(&sample::monthly_report()).contains("STSong"));
    }

    #[test]
    fn text_outside_win_ansi_does_not_panic() {
        let awkward = "Łódź “quoted” – ≤ 5 ≠ ∞ 🙂 \u{0}\u{7}\u{ad}e\u{301} Ω אב ✓ \t\r\n(x) \\";
        let doc = Doc {
            issuer: awkward.to_owned(),
            title: awkward.repeat(8),
            subtitle: awkward.to_owned(),
            meta: vec![(awkward.to_owned(), awkward.repeat(30))],
            sections: vec![Section {
                title: awkward.to_owned(),
                blocks: vec![
                    Block::Figures(vec![Figure {
                        label: awkward.to_owned(),
                        value: awkward.repeat(3),
                        detail: awkward.to_owned(),
                        tone: Tone::Warn,
                    }]),
                    Block::Note(Tone::Bad, awkward.repeat(200)),
                    Block::Table(Table {
                        columns: vec![Column { title: awkward.to_owned(), ..Column::default() }],
                        rows: vec![vec![Cell { text: awkward.repeat(400), tone: Tone::Good }]],
                        empty: String::new(),
                    }),
                ],
            }],
            footer: awkward.repeat(10),
            ..Doc::default()
        };
        let pdf = render_text(&doc);
        assert!(pdf.contains("(L\\363dz \\223quoted\\224 \\226 <= 5 != inf ? "));
        assert!(n_pages(&pdf) > 1);
    }

    #[test]
    fn wrapping_respects_the_width() {
        let text = "The managed e-mail service was available for 99.87 % of the agreed time; \
                    averyveryverylongwordwithoutanyspacesthatmustbebrokensomewhere.";
        for width in [40.0, 90.0, 200.0] {
            let lines = wrap(text, BODY, width);
            assert!(lines.len() > 1);
            for line in &lines {
                assert!(text_width(line, BODY) <= width + 0.01, "{line:?} wider than {width}");
            }
            let joined: String = lines.concat().split_whitespace().collect();
            assert_eq!(joined, text.split_whitespace().collect::<String>());
        }
        let narrow = text_width("position 184", BODY) + 1.0;
        assert_eq!(wrap("position 184 223", BODY, narrow), ["position", "184 223"]);
        let narrow = text_width("below 99.9", BODY) + 1.0;
        assert_eq!(wrap("below 99.9 %", BODY, narrow), ["below", "99.9 %"]);
        assert_eq!(wrap("", BODY, 100.0), [""]);
        assert_eq!(wrap("a\nb", BODY, 100.0), ["a", "b"]);
        assert_eq!(truncate("Availability", BODY, 30.0).chars().last(), Some('…'));
    }

    #[test]
    fn widths_match_the_font_metrics() {
        // "Helvetica" in Helvetica at 1000 units: H 722 e 556 l 222 v 500 e 556 t 278 i 222
        // c 500 a 556.
        let style = TextStyle::new(Font::Regular, 1000.0, svg::INK);
        assert_eq!(text_width("Helvetica", style), 4112.0);
        assert_eq!(text_width("·", style), 278.0);
        assert_eq!(text_width("服", style), 1000.0);
    }

    #[test]
    fn sample_report_renders() {
        let doc = sample::monthly_report();
        let pdf = render(&doc);
        let html = super::super::html::render(&doc);
        let text = String::from_utf8_lossy(&pdf);
        assert!(n_pages(&text) >= 2);
        // Set ACCORD_SAMPLE_REPORT_DIR to look at the sample: it writes accord-sample.pdf and
        // accord-sample.html there.
        if let Some(directory) = std::env::var_os("ACCORD_SAMPLE_REPORT_DIR") {
            let directory = std::path::PathBuf::from(directory);
            std::fs::write(directory.join("accord-sample.pdf"), &pdf).expect("writing the PDF");
            std::fs::write(directory.join("accord-sample.html"), html).expect("writing the HTML");
        }
    }
}

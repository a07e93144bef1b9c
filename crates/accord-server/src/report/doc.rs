//! A report laid out as blocks of text, figures, tables and charts, already in the reader's
//! language: what the HTML and PDF renderers draw. Everything a renderer shows is in here, so
//! the same `Doc` gives the same page in both and the bytes depend only on the `Doc`.

/// A whole report.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Doc {
    /// The language tag (`en`, `zh-CN`), for the HTML `lang` attribute.
    pub(crate) lang: String,
    /// Who issues the report (the provider's name), shown above the title.
    pub(crate) issuer: String,
    /// `Service level report`.
    pub(crate) title: String,
    /// `Acme Corporation · October 2026`.
    pub(crate) subtitle: String,
    /// Facts shown under the title: period, time zone, generated, log position.
    pub(crate) meta: Vec<(String, String)>,
    /// The sections, in order.
    pub(crate) sections: Vec<Section>,
    /// Printed at the foot of every page (evidence: log position, what recomputes it).
    pub(crate) footer: String,
}

/// A titled part of the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Section {
    /// The heading.
    pub(crate) title: String,
    /// The blocks, in order.
    pub(crate) blocks: Vec<Block>,
}

/// One block of a section.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Block {
    /// Key figures shown as cards in a row (wrapping): `Availability 99.95 %`.
    Figures(Vec<Figure>),
    /// A paragraph of text.
    Paragraph(String),
    /// A highlighted note (the watermelon flag, a missing fee).
    Note(Tone, String),
    /// A table.
    Table(Table),
    /// A bar chart.
    Bars(BarChart),
}

/// How good a value is; renderers colour by it (green, amber, red) and never by colour alone:
/// the text says it too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Nothing to judge.
    #[default]
    Neutral,
    /// Met.
    Good,
    /// Close to missing, or a warning.
    Warn,
    /// Missed.
    Bad,
}

/// One key figure.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Figure {
    /// `Availability`.
    pub(crate) label: String,
    /// `99.95 %`.
    pub(crate) value: String,
    /// `target 99.9 % · met`.
    pub(crate) detail: String,
    /// Its tone.
    pub(crate) tone: Tone,
}

/// A table.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Table {
    /// The columns.
    pub(crate) columns: Vec<Column>,
    /// The rows; each has one cell per column.
    pub(crate) rows: Vec<Vec<Cell>>,
    /// Shown when there are no rows: `No breaches in the period.`
    pub(crate) empty: String,
}

/// A table column.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Column {
    /// The heading.
    pub(crate) title: String,
    /// How its cells align.
    pub(crate) align: Align,
    /// Its share of the table's width, relative to the other columns' weights.
    pub(crate) weight: u8,
}

/// Horizontal alignment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Align {
    /// Text.
    #[default]
    Left,
    /// Numbers.
    Right,
}

/// A table cell.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Cell {
    /// The text (may be long: renderers wrap it).
    pub(crate) text: String,
    /// Its tone.
    pub(crate) tone: Tone,
}

/// A bar chart of one value per label (availability per day).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct BarChart {
    /// `Availability per day`.
    pub(crate) title: String,
    /// The text alternative: what the chart shows, in words, with the lowest bars named.
    pub(crate) alt: String,
    /// The unit appended to axis labels: `%`.
    pub(crate) unit: String,
    /// The bottom of the value axis (`99.0`); lower values are drawn at the bottom, clipped.
    pub(crate) floor: f64,
    /// The top of the value axis (`100.0`).
    pub(crate) ceiling: f64,
    /// A target line, drawn across the chart and labelled.
    pub(crate) target: Option<f64>,
    /// The bars, left to right.
    pub(crate) bars: Vec<Bar>,
}

/// One bar.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Bar {
    /// The axis label (`1` for the first day); renderers may show only some.
    pub(crate) label: String,
    /// The exact value in words, for hover and the text alternative: `1 Oct: 99.95 %`.
    pub(crate) tip: String,
    /// The value; `None` where there is no data (drawn as a hatched or grey stub).
    pub(crate) value: Option<f64>,
    /// Its tone.
    pub(crate) tone: Tone,
}

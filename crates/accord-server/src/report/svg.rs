//! The bar chart of a report as a standalone SVG element, plus the chart geometry and the tone
//! palette that the PDF renderer reuses so both formats draw the same chart. It is separate from
//! the HTML renderer because the web UI embeds the same charts outside any report.

use std::fmt::Write as _;

use super::doc::{BarChart, Tone};
use super::html::escape;

/// The chart's coordinate system (SVG user units, y pointing down); renderers scale it.
pub(crate) const CHART_WIDTH: f64 = 720.0;
/// See [`CHART_WIDTH`].
pub(crate) const CHART_HEIGHT: f64 = 216.0;
/// The size of axis and target labels, in chart units.
pub(crate) const AXIS_FONT_SIZE: f64 = 11.0;
/// The size of the bar labels under the axis, in chart units.
pub(crate) const LABEL_FONT_SIZE: f64 = 10.0;

const PLOT_LEFT: f64 = 60.0;
const PLOT_RIGHT: f64 = CHART_WIDTH - 64.0;
const PLOT_TOP: f64 = 10.0;
const PLOT_BOTTOM: f64 = 188.0;
/// The baseline of the labels under the axis, in chart units.
pub(crate) const LABEL_BASELINE: f64 = 205.0;
/// The share of a bar's slot that the bar fills; the rest is the gap between bars.
const BAR_FILL: f64 = 0.68;
/// A value bar is at least this tall, so a day at or below the floor still shows its tone.
const MIN_BAR_HEIGHT: f64 = 2.5;
const NO_DATA_STUB_HEIGHT: f64 = 5.0;

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Colour {
    pub(crate) red: u8,
    pub(crate) green: u8,
    pub(crate) blue: u8,
}

impl Colour {
    const fn new(red: u8, green: u8, blue: u8) -> Colour {
        Colour { red, green, blue }
    }

    /// `#1a7f37`.
    pub(crate) fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.red, self.green, self.blue)
    }
}

/// Body text.
pub(crate) const INK: Colour = Colour::new(0x1f, 0x23, 0x28);
/// Labels, captions and the footer.
pub(crate) const MUTED: Colour = Colour::new(0x59, 0x63, 0x6e);
/// Hairlines and the chart's baseline.
pub(crate) const RULE: Colour = Colour::new(0xd1, 0xd9, 0xe0);
/// The masthead rule and the issuer.
pub(crate) const ACCENT: Colour = Colour::new(0x0b, 0x3d, 0x91);
/// The ceiling gridline of a chart.
pub(crate) const GRID: Colour = Colour::new(0xea, 0xee, 0xf2);
const NO_DATA: Colour = Colour::new(0xd0, 0xd7, 0xde);

/// The colour of text in a tone; dark enough for body text on white (WCAG AA).
pub(crate) const fn tone_text_colour(tone: Tone) -> Colour {
    match tone {
        Tone::Neutral => INK,
        Tone::Good => Colour::new(0x1a, 0x7f, 0x37),
        Tone::Warn => Colour::new(0x9a, 0x67, 0x00),
        Tone::Bad => Colour::new(0xcf, 0x22, 0x2e),
    }
}

/// The colour of a filled shape in a tone: bars, the stripe of a figure card or a note.
pub(crate) const fn tone_fill_colour(tone: Tone) -> Colour {
    match tone {
        Tone::Neutral => Colour::new(0x8c, 0x95, 0x9f),
        Tone::Good => Colour::new(0x2d, 0xa4, 0x4e),
        Tone::Warn => Colour::new(0xd4, 0xa7, 0x2c),
        Tone::Bad => Colour::new(0xcf, 0x22, 0x2e),
    }
}

/// The pale background of a note in a tone.
pub(crate) const fn tone_tint_colour(tone: Tone) -> Colour {
    match tone {
        Tone::Neutral => Colour::new(0xf6, 0xf8, 0xfa),
        Tone::Good => Colour::new(0xea, 0xf8, 0xee),
        Tone::Warn => Colour::new(0xfd, 0xf6, 0xdc),
        Tone::Bad => Colour::new(0xfd, 0xec, 0xea),
    }
}

/// The small shape drawn next to toned text, so that the tone never depends on colour alone:
/// a tick for good, a triangle for a warning, a cross for bad.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Marker {
    /// Polylines in a 10 × 10 box, y pointing down.
    pub(crate) paths: &'static [&'static [(f64, f64)]],
    /// Whether the closed paths are filled; otherwise they are stroked with round joins.
    pub(crate) filled: bool,
}

/// The stroke width of an unfilled marker, in units of its 10 × 10 box.
pub(crate) const MARKER_STROKE_WIDTH: f64 = 1.9;

/// The marker of a tone; neutral has none.
pub(crate) const fn tone_marker(tone: Tone) -> Option<Marker> {
    match tone {
        Tone::Neutral => None,
        Tone::Good => {
            Some(Marker { paths: &[&[(1.5, 5.5), (4.0, 8.0), (8.5, 2.0)]], filled: false })
        }
        Tone::Warn => {
            Some(Marker { paths: &[&[(5.0, 0.8), (9.6, 9.2), (0.4, 9.2)]], filled: true })
        }
        Tone::Bad => Some(Marker {
            paths: &[&[(2.0, 2.0), (8.0, 8.0)], &[(8.0, 2.0), (2.0, 8.0)]],
            filled: false,
        }),
    }
}

/// A marker as an inline SVG icon that takes the colour of the surrounding text.
pub(crate) fn marker_icon(marker: Marker) -> String {
    let mut path_data = String::new();
    for points in marker.paths {
        for (point_idx, (x, y)) in points.iter().enumerate() {
            let command = if point_idx == 0 { 'M' } else { 'L' };
            let _ = write!(path_data, "{command}{} {}", number(*x), number(*y));
        }
        if marker.filled {
            path_data.push('Z');
        }
    }
    let paint = if marker.filled {
        "fill=\"currentColor\"".to_owned()
    } else {
        format!(
            "fill=\"none\" stroke=\"currentColor\" stroke-width=\"{}\" \
             stroke-linecap=\"round\" stroke-linejoin=\"round\"",
            number(MARKER_STROKE_WIDTH)
        )
    };
    format!(
        "<svg class=\"marker\" viewBox=\"0 0 10 10\" aria-hidden=\"true\" focusable=\"false\">\
         <path d=\"{path_data}\" {paint}/></svg>"
    )
}

/// Where everything in a chart goes, in chart units ([`CHART_WIDTH`] × [`CHART_HEIGHT`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ChartLayout {
    pub(crate) plot_left: f64,
    pub(crate) plot_right: f64,
    pub(crate) plot_top: f64,
    pub(crate) plot_bottom: f64,
    /// The ceiling (top) and floor (bottom) labels, right-aligned left of the plot.
    pub(crate) axis_labels: Vec<AxisLabel>,
    pub(crate) target: Option<TargetLine>,
    /// One per bar of the chart, in order.
    pub(crate) bars: Vec<BarShape>,
    /// The labels that are shown under the axis, centred on their bars.
    pub(crate) bar_labels: Vec<BarLabel>,
}

/// A value-axis label, vertically centred on `y`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AxisLabel {
    pub(crate) y: f64,
    pub(crate) text: String,
}

/// The dashed target line across the plot, labelled right of it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TargetLine {
    pub(crate) y: f64,
    pub(crate) text: String,
}

/// One bar's rectangle.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BarShape {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) width: f64,
    pub(crate) height: f64,
    pub(crate) fill: Colour,
    /// The value lies below the floor: a small downward triangle sits on the bar.
    pub(crate) below_floor: bool,
}

impl BarShape {
    /// The downward triangle that marks a value below the floor.
    pub(crate) fn below_floor_triangle(&self) -> [(f64, f64); 3] {
        let centre = self.x + self.width / 2.0;
        let half_width = (self.width / 2.0).min(4.5);
        let tip_y = self.y - 2.0;
        [(centre - half_width, tip_y - 6.0), (centre + half_width, tip_y - 6.0), (centre, tip_y)]
    }
}

/// A label under the axis, centred on `x`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BarLabel {
    pub(crate) x: f64,
    pub(crate) text: String,
}

/// Lays out a chart: the SVG and PDF renderers both draw exactly this.
pub(crate) fn layout(chart: &BarChart) -> ChartLayout {
    let plot_height = PLOT_BOTTOM - PLOT_TOP;
    let span = chart.ceiling - chart.floor;
    let axis_is_valid = span.is_finite() && span > 0.0;
    // Where a value sits, as a share of the plot's height from the bottom, clipped to it.
    let share_of_axis = |value: f64| -> f64 {
        if axis_is_valid { ((value - chart.floor) / span).clamp(0.0, 1.0) } else { 1.0 }
    };

    let axis_labels = vec![
        AxisLabel { y: PLOT_TOP, text: format_value(chart.ceiling, &chart.unit) },
        AxisLabel { y: PLOT_BOTTOM, text: format_value(chart.floor, &chart.unit) },
    ];
    let target = chart.target.filter(|target| target.is_finite()).map(|target| TargetLine {
        y: PLOT_BOTTOM - share_of_axis(target) * plot_height,
        text: format_value(target, &chart.unit),
    });

    let n_bars = chart.bars.len();
    let slot_width = (PLOT_RIGHT - PLOT_LEFT) / n_bars.max(1) as f64;
    let bar_width = slot_width * BAR_FILL;
    let slot_left = |bar_idx: usize| PLOT_LEFT + slot_width * bar_idx as f64;
    let bars = chart
        .bars
        .iter()
        .enumerate()
        .map(|(bar_idx, bar)| {
            let x = slot_left(bar_idx) + (slot_width - bar_width) / 2.0;
            match bar.value.filter(|value| value.is_finite()) {
                Some(value) => {
                    let height = (share_of_axis(value) * plot_height).max(MIN_BAR_HEIGHT);
                    BarShape {
                        x,
                        y: PLOT_BOTTOM - height,
                        width: bar_width,
                        height,
                        fill: tone_fill_colour(bar.tone),
                        below_floor: axis_is_valid && value < chart.floor,
                    }
                }
                None => BarShape {
                    x,
                    y: PLOT_BOTTOM - NO_DATA_STUB_HEIGHT,
                    width: bar_width,
                    height: NO_DATA_STUB_HEIGHT,
                    fill: NO_DATA,
                    below_floor: false,
                },
            }
        })
        .collect();

    let label_step = label_step(n_bars);
    let bar_labels = chart
        .bars
        .iter()
        .enumerate()
        .filter(|(bar_idx, _)| *bar_idx == 0 || (bar_idx + 1) % label_step == 0)
        .map(|(bar_idx, bar)| BarLabel {
            x: slot_left(bar_idx) + slot_width / 2.0,
            text: bar.label.clone(),
        })
        .collect();

    ChartLayout {
        plot_left: PLOT_LEFT,
        plot_right: PLOT_RIGHT,
        plot_top: PLOT_TOP,
        plot_bottom: PLOT_BOTTOM,
        axis_labels,
        target,
        bars,
        bar_labels,
    }
}

/// Every how many bars a label is shown: all of them for a fortnight, the first and every
/// fifth for a month (1, 5, 10, …, 30), and about a dozen for longer series.
fn label_step(n_bars: usize) -> usize {
    match n_bars {
        0..=16 => 1,
        17..=62 => 5,
        _ => n_bars.div_ceil(12),
    }
}

/// A value-axis number with its unit: `99.9 %`, `100 %`, `250 ms`.
pub(crate) fn format_value(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return String::new();
    }
    let rounded = format!("{value:.3}");
    let trimmed = if rounded.contains('.') {
        rounded.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        rounded
    };
    let trimmed = if trimmed == "-0" { "0".to_owned() } else { trimmed };
    if unit.is_empty() { trimmed } else { format!("{trimmed}\u{a0}{unit}") }
}

/// A coordinate with at most two decimals and no trailing zeros, for compact, stable output.
fn number(value: f64) -> String {
    let rounded = format!("{value:.2}");
    let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" { "0".to_owned() } else { trimmed.to_owned() }
}

/// Renders a chart as one `<svg>` element that scales to its container's width.
pub(crate) fn bars(chart: &BarChart) -> String {
    let chart_layout = layout(chart);
    let id = format!("chart-{:08x}", id_hash(chart));
    let title = if chart.title.is_empty() { &chart.alt } else { &chart.title };
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         width=\"100%\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" \
         font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, \
         sans-serif\" font-size=\"{axis_font_size}\">\n\
         <title id=\"{id}-title\">{title}</title>\n\
         <desc id=\"{id}-desc\">{alt}</desc>\n",
        width = number(CHART_WIDTH),
        height = number(CHART_HEIGHT),
        axis_font_size = number(AXIS_FONT_SIZE),
        title = escape(title),
        alt = escape(&chart.alt),
    );

    // The ceiling gridline and the baseline.
    let _ = writeln!(
        svg,
        "<g stroke-width=\"1\">\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{right}\" y2=\"{top}\" stroke=\"{grid}\"/>\
         <line x1=\"{left}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\" stroke=\"{rule}\"/>\
         </g>",
        left = number(chart_layout.plot_left),
        right = number(chart_layout.plot_right),
        top = number(chart_layout.plot_top),
        bottom = number(chart_layout.plot_bottom),
        grid = GRID.to_hex(),
        rule = MUTED.to_hex(),
    );
    let _ = write!(svg, "<g fill=\"{}\" text-anchor=\"end\">", MUTED.to_hex());
    for axis_label in &chart_layout.axis_labels {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" dy=\"0.35em\">{}</text>",
            number(chart_layout.plot_left - 6.0),
            number(axis_label.y),
            escape(&axis_label.text),
        );
    }
    svg.push_str("</g>\n<g>\n");

    for (bar, shape) in chart.bars.iter().zip(&chart_layout.bars) {
        let _ = writeln!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"1.5\" fill=\"{}\">\
             <title>{}</title></rect>",
            number(shape.x),
            number(shape.y),
            number(shape.width),
            number(shape.height),
            shape.fill.to_hex(),
            escape(&bar.tip),
        );
        if shape.below_floor {
            let points = shape
                .below_floor_triangle()
                .iter()
                .map(|(x, y)| format!("{},{}", number(*x), number(*y)))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = writeln!(
                svg,
                "<polygon points=\"{points}\" fill=\"{}\" aria-hidden=\"true\"/>",
                shape.fill.to_hex()
            );
        }
    }
    svg.push_str("</g>\n");

    if let Some(target) = &chart_layout.target {
        let _ = writeln!(
            svg,
            "<g class=\"target\" fill=\"{ink}\">\
             <line x1=\"{left}\" y1=\"{y}\" x2=\"{right}\" y2=\"{y}\" stroke=\"{ink}\" \
             stroke-width=\"1.25\" stroke-dasharray=\"5 3\"/>\
             <text x=\"{label_x}\" y=\"{y}\" dy=\"0.35em\" font-weight=\"600\">{text}</text>\
             </g>",
            ink = INK.to_hex(),
            left = number(chart_layout.plot_left),
            right = number(chart_layout.plot_right),
            y = number(target.y),
            label_x = number(chart_layout.plot_right + 6.0),
            text = escape(&target.text),
        );
    }

    let _ = write!(
        svg,
        "<g fill=\"{}\" font-size=\"{}\" text-anchor=\"middle\">",
        MUTED.to_hex(),
        number(LABEL_FONT_SIZE)
    );
    for bar_label in &chart_layout.bar_labels {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            number(bar_label.x),
            number(LABEL_BASELINE),
            escape(&bar_label.text),
        );
    }
    svg.push_str("</g>\n</svg>");
    svg
}

/// A stable id for the chart's title and description (FNV-1a over its text), so that several
/// charts on one page don't share ids and the same chart always gets the same bytes.
fn id_hash(chart: &BarChart) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    let texts = [chart.title.as_str(), chart.alt.as_str()];
    for byte in texts.iter().flat_map(|text| text.bytes().chain([0])) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::super::doc::Bar;
    use super::*;

    fn month_chart() -> BarChart {
        let bars = (1..=31)
            .map(|day| {
                let value = match day {
                    7 => Some(98.2),
                    19 => Some(99.42),
                    23 => None,
                    _ => Some(99.98),
                };
                let tone = match day {
                    7 | 19 => Tone::Bad,
                    23 => Tone::Neutral,
                    _ => Tone::Good,
                };
                Bar {
                    label: day.to_string(),
                    tip: format!("{day} Oct: {value:?} & more"),
                    value,
                    tone,
                }
            })
            .collect();
        BarChart {
            title: "Availability per day".to_owned(),
            alt: "Availability per day <lowest: 7 Oct>".to_owned(),
            unit: "%".to_owned(),
            floor: 99.0,
            ceiling: 100.0,
            target: Some(99.9),
            bars,
        }
    }

    #[test]
    fn every_bar_has_one_rect_with_a_title() {
        let svg = bars(&month_chart());
        assert_eq!(svg.matches("<rect ").count(), 31);
        assert_eq!(svg.matches("<title>").count(), 31);
        assert!(svg.contains("<title>7 Oct: Some(98.2) &amp; more</title>"));
    }

    #[test]
    fn chart_is_labelled_for_assistive_technology() {
        let svg = bars(&month_chart());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<desc id=\"chart-"));
        assert!(svg.contains("Availability per day &lt;lowest: 7 Oct&gt;</desc>"));
    }

    #[test]
    fn target_line_is_dashed_and_labelled() {
        let svg = bars(&month_chart());
        assert_eq!(svg.matches("stroke-dasharray").count(), 1);
        assert!(svg.contains(">99.9\u{a0}%</text>"));
        assert!(svg.contains(">100\u{a0}%</text>"));
        assert!(svg.contains(">99\u{a0}%</text>"));
    }

    #[test]
    fn month_labels_are_thinned_to_every_fifth_day() {
        let chart_layout = layout(&month_chart());
        let labels: Vec<&str> =
            chart_layout.bar_labels.iter().map(|label| label.text.as_str()).collect();
        assert_eq!(labels, ["1", "5", "10", "15", "20", "25", "30"]);
    }

    #[test]
    fn values_below_the_floor_are_clipped_and_marked() {
        let chart_layout = layout(&month_chart());
        let bad_day = &chart_layout.bars[6];
        assert!(bad_day.below_floor);
        assert_eq!(bad_day.height, MIN_BAR_HEIGHT);
        let missing_day = &chart_layout.bars[22];
        assert_eq!(missing_day.fill, NO_DATA);
        assert!(!missing_day.below_floor);
    }

    #[test]
    fn degenerate_axis_does_not_panic() {
        let mut chart = month_chart();
        chart.floor = 100.0;
        chart.ceiling = 100.0;
        chart.target = Some(f64::NAN);
        chart.bars[0].value = Some(f64::INFINITY);
        let svg = bars(&chart);
        assert!(!svg.contains("NaN"));
        assert!(!svg.contains("inf"));
        assert_eq!(bars(&BarChart::default()).matches("<rect").count(), 0);
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(bars(&month_chart()), bars(&month_chart()));
    }

    #[test]
    fn axis_values_are_formatted_without_noise() {
        assert_eq!(format_value(99.0, "%"), "99\u{a0}%");
        assert_eq!(format_value(99.95, "%"), "99.95\u{a0}%");
        assert_eq!(format_value(250.0, ""), "250");
        assert_eq!(format_value(-0.0001, ""), "0");
        assert_eq!(format_value(f64::NAN, "%"), "");
    }
}

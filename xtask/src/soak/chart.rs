//! The SVG of `cargo xtask soak`: small line charts over time, side by side in one picture, with
//! the warm-up shaded. Drawn by hand, like the bar charts of `cargo xtask bench`.

use std::fmt::Write as _;

/// One line of a panel.
pub struct Series {
    pub label: String,
    pub colour: &'static str,
    /// Drawn dashed (a reference line, such as the client's count of open connections).
    pub dashed: bool,
    /// (seconds since the start, value).
    pub points: Vec<(f64, f64)>,
}

/// One panel: a title, the unit of its y axis, its lines.
pub struct Panel {
    pub title: String,
    pub unit: &'static str,
    pub series: Vec<Series>,
}

const PANEL_W: f64 = 460.0;
const PANEL_H: f64 = 230.0;
const MARGIN_L: f64 = 62.0;
// Room for half of the last time label, which is centred on the axis's right end.
const MARGIN_R: f64 = 28.0;
const MARGIN_T: f64 = 44.0;
const MARGIN_B: f64 = 34.0;
const COLUMNS: usize = 2;

/// The whole picture: `panels` in rows of two under `title`, time from 0 to `t_max` seconds,
/// the warm-up (the first `warmup` seconds) shaded.
pub fn render(title: &str, panels: &[Panel], t_max: f64, warmup: f64) -> String {
    let rows = panels.len().div_ceil(COLUMNS);
    let width = PANEL_W * COLUMNS as f64;
    let height = 36.0 + PANEL_H * rows as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"22\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
        escape(title)
    );
    for (i, panel) in panels.iter().enumerate() {
        let x0 = PANEL_W * (i % COLUMNS) as f64;
        let y0 = 36.0 + PANEL_H * (i / COLUMNS) as f64;
        draw_panel(&mut s, panel, x0, y0, t_max.max(1.0), warmup);
    }
    s.push_str("</svg>\n");
    s
}

fn draw_panel(s: &mut String, panel: &Panel, x0: f64, y0: f64, t_max: f64, warmup: f64) {
    let (left, top) = (x0 + MARGIN_L, y0 + MARGIN_T);
    let (w, h) = (PANEL_W - MARGIN_L - MARGIN_R, PANEL_H - MARGIN_T - MARGIN_B);
    let y_max = nice_ceiling(
        panel
            .series
            .iter()
            .flat_map(|series| series.points.iter().map(|p| p.1))
            .fold(0.0, f64::max)
            * 1.05,
    );
    let x = |t: f64| left + t / t_max * w;
    let y = |v: f64| top + h - v / y_max * h;
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" font-weight=\"bold\">{} ({})</text>",
        x0 + 10.0,
        y0 + 16.0,
        escape(&panel.title),
        escape(panel.unit)
    );
    // The legend, under the title.
    let mut lx = x0 + 10.0;
    for series in &panel.series {
        let dash = if series.dashed {
            " stroke-dasharray=\"4 3\""
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            lx + 16.0,
            series.colour,
            lx + 20.0,
            y0 + 32.0,
            escape(&series.label),
            ly = y0 + 28.0,
        );
        lx += 28.0 + 6.2 * series.label.chars().count() as f64;
    }
    // Warm-up, grid, axes.
    if warmup > 0.0 {
        let _ = writeln!(
            s,
            "<rect x=\"{left}\" y=\"{top}\" width=\"{:.1}\" height=\"{h}\" fill=\"#eeeeee\"/>\
             <text x=\"{}\" y=\"{}\" fill=\"#999999\">warm-up</text>",
            x(warmup.min(t_max)) - left,
            left + 3.0,
            top + 11.0
        );
    }
    for i in 0..=4 {
        let v = y_max * f64::from(i) / 4.0;
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{py:.1}\" x2=\"{}\" y2=\"{py:.1}\" stroke=\"#dddddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left + w,
            left - 4.0,
            y(v) + 4.0,
            fmt_tick(v),
            py = y(v),
        );
    }
    let step = time_step(t_max);
    let mut t = 0.0;
    while t <= t_max + 0.001 {
        let label = if step >= 60.0 {
            format!("{:.0} min", t / 60.0)
        } else {
            format!("{t:.0} s")
        };
        let _ = writeln!(
            s,
            "<line x1=\"{px:.1}\" y1=\"{}\" x2=\"{px:.1}\" y2=\"{}\" stroke=\"#999999\"/>\
             <text x=\"{px:.1}\" y=\"{}\" text-anchor=\"middle\">{label}</text>",
            top + h,
            top + h + 4.0,
            top + h + 16.0,
            px = x(t),
        );
        t += step;
    }
    let _ = writeln!(
        s,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#999999\"/>"
    );
    for series in &panel.series {
        if series.points.is_empty() {
            continue;
        }
        let points: Vec<String> = series
            .points
            .iter()
            .map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v)))
            .collect();
        let dash = if series.dashed {
            " stroke-dasharray=\"4 3\""
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"{dash}/>",
            points.join(" "),
            series.colour
        );
    }
}

/// The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value` (1 for nothing).
fn nice_ceiling(value: f64) -> f64 {
    if value <= 0.0 || !value.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(value.log10().floor());
    for factor in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if factor * power >= value {
            return factor * power;
        }
    }
    10.0 * power
}

/// A tick step giving 4 to 10 ticks: seconds for short runs, whole minutes for long ones.
fn time_step(t_max: f64) -> f64 {
    [10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0]
        .into_iter()
        .find(|step| t_max / step <= 10.0)
        .unwrap_or(7200.0)
}

fn fmt_tick(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else if (v * 10.0) == (v * 10.0).round() {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_axis_ends() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.3), 10.0);
        assert_eq!(nice_ceiling(21.0), 25.0);
        assert_eq!(nice_ceiling(4_200.0), 5_000.0);
        assert_eq!(time_step(120.0), 15.0);
        assert_eq!(time_step(600.0), 60.0);
    }

    #[test]
    fn a_picture_has_every_line() {
        let panel = Panel {
            title: "RSS".into(),
            unit: "MiB",
            series: vec![Series {
                label: "a<b".into(),
                colour: "#1f77b4",
                dashed: false,
                points: vec![(0.0, 1.0), (5.0, 2.0)],
            }],
        };
        let svg = render("soak", &[panel], 5.0, 1.0);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.contains("a&lt;b"));
    }
}

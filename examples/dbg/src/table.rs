//! Column alignment as Cilium's CLI prints its tables.
//!
//! Cilium writes its tables through Go's `text/tabwriter` (minimum cell width 5, padding 3,
//! spaces). [`Table`] does the same for rows of tab-separated cells: every cell but the last of
//! its row is padded to the widest cell of its column, plus 3 spaces, and at least 5 wide.
//! Unlike tabwriter, trailing spaces are removed from every line.

/// Go tabwriter's `minwidth` as Cilium configures it.
const MIN_WIDTH: usize = 5;
/// Go tabwriter's `padding` as Cilium configures it.
const PADDING: usize = 3;

/// Rows of cells, aligned into columns by [`Table::render`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose first row is `header`.
    pub fn new(header: &[&str]) -> Table {
        let mut t = Table::default();
        t.row(header.iter().copied());
        t
    }

    /// Appends a row. Rows may have different numbers of cells; a column is aligned over the
    /// rows in which it is not the last cell.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Appends a row and then, for each further line of a multi-line column, a row with only
    /// that column filled: how Cilium lists labels, backends and errors one per line.
    ///
    /// `lines` is the content of column `column`: the first line goes into `cells`, the rest
    /// into rows of their own.
    pub fn row_with_lines(&mut self, mut cells: Vec<String>, column: usize, lines: &[String]) {
        let width = cells.len().max(column + 1);
        cells.resize(width, String::new());
        cells[column] = lines.first().cloned().unwrap_or_default();
        self.rows.push(cells);
        for line in lines.iter().skip(1) {
            let mut extra = vec![String::new(); width];
            extra[column] = line.clone();
            self.rows.push(extra);
        }
    }

    /// The aligned text, one line per row, each ending in `\n`.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in &self.rows {
            // The last cell of a row is not part of a column.
            for (i, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
                widths[i] = widths[i].max(width(cell) + PADDING).max(MIN_WIDTH);
            }
        }
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.extend(std::iter::repeat_n(' ', widths[i] - width(cell)));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Display width as tabwriter counts it: one per character.
fn width(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_padded_by_three_at_least_five() {
        let mut t = Table::new(&["ID", "NAME", "X"]);
        t.row(["1", "a", "last"]);
        t.row(["12345", "", ""]);
        assert_eq!(
            t.render(),
            "ID      NAME   X\n\
             1       a      last\n\
             12345\n"
        );
    }

    #[test]
    fn ragged_rows_and_continuation_lines() {
        let mut t = Table::default();
        t.row(["KVStore:", "Disabled"]);
        t.row(["Kubernetes:", "Ok", "v1"]);
        t.row_with_lines(
            vec!["7".into(), String::new(), "x".into()],
            1,
            &["l1".into(), "longer-l2".into()],
        );
        assert_eq!(
            t.render(),
            "KVStore:      Disabled\n\
             Kubernetes:   Ok          v1\n\
             7             l1          x\n\
             \x20             longer-l2\n"
        );
    }
}

//! Docker's tables: columns padded as its tab writer pads them (at least 10 wide, 3 spaces
//! between), the last column unpadded.

/// Rows of cells, the first being the header.
#[derive(Debug, Default)]
pub(crate) struct Table {
    rows: Vec<Vec<String>>,
}

/// Building and writing
impl Table {
    /// A table with the `header` row.
    pub(crate) fn new(header: &[&str]) -> Table {
        Table {
            rows: vec![header.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    /// Adds a row.
    pub(crate) fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// The table as text, one line per row.
    pub(crate) fn render(&self) -> String {
        const MIN_WIDTH: usize = 10;
        const PADDING: usize = 3;
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(c))
                    .map(|cell| cell.chars().count() + PADDING)
                    .max()
                    .unwrap_or(0)
                    .max(MIN_WIDTH)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if c + 1 < row.len() {
                    let width = widths.get(c).copied().unwrap_or(MIN_WIDTH);
                    let pad = width.saturating_sub(cell.chars().count());
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn columns_are_padded_like_dockers_tab_writer() {
        let mut table = Table::new(&["REPOSITORY", "TAG", "SIZE"]);
        table.push(vec!["alpine".into(), "latest".into(), "7.33MB".into()]);
        assert_eq!(
            table.render(),
            "REPOSITORY   TAG       SIZE\nalpine       latest    7.33MB\n"
        );
    }
}

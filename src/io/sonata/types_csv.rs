//! SONATA's node and edge types files: CSV in the spec's own dialect (columns separated by
//! one or more spaces, a field holding spaces quoted with `"`, a quote inside it doubled),
//! a header of column names, and `NULL` for a value a type does not give. pandas writes them
//! (`to_csv(sep=" ", na_rep="NULL")`), as BMTK does; the `csv` crate takes one delimiter and
//! would read each extra space as an empty field, hence this reader.

use std::path::Path;

/// A types file: its column names and its rows, each value None where it is `NULL`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypesTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl TypesTable {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// Reads and parses `path`. Errors are messages about the file's contents, naming the line.
pub fn read(path: &Path) -> Result<TypesTable, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    parse(&text)
}

/// The table of `text`; blank lines are skipped.
pub fn parse(text: &str) -> Result<TypesTable, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((h, header)) = lines.next() else { return Err("is empty: it needs a header of column names".into()) };
    let columns: Vec<String> = fields(header)
        .map_err(|m| format!("line {}: {m}", h + 1))?
        .into_iter()
        .map(|c| c.unwrap_or_else(|| "NULL".into()))
        .collect();
    if let Some(c) = columns.iter().enumerate().find_map(|(k, c)| columns[..k].contains(c).then_some(c)) {
        return Err(format!("line {}: column `{c}` is named twice", h + 1));
    }
    let mut rows = Vec::new();
    for (k, line) in lines {
        let row = fields(line).map_err(|m| format!("line {}: {m}", k + 1))?;
        if row.len() != columns.len() {
            let values = if row.len() == 1 { "1 value".to_string() } else { format!("{} values", row.len()) };
            return Err(format!("line {}: {values} for the header's {} columns", k + 1, columns.len()));
        }
        rows.push(row);
    }
    Ok(TypesTable { columns, rows })
}

/// One line's fields: runs of spaces (or tabs) separate them; a quoted field may hold spaces
/// and `""` for a quote. An unquoted `NULL` is None; a quoted one is the text.
fn fields(line: &str) -> Result<Vec<Option<String>>, String> {
    let mut out = Vec::new();
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let Some(&first) = chars.peek() else { return Ok(out) };
        if first == '"' {
            chars.next();
            let mut field = String::new();
            loop {
                match chars.next() {
                    Some('"') if chars.next_if_eq(&'"').is_some() => field.push('"'),
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err(format!("field {} opens a quote it does not close", out.len() + 1)),
                }
            }
            if chars.peek().is_some_and(|c| *c != ' ' && *c != '\t') {
                return Err(format!("field {}: text follows its closing quote", out.len() + 1));
            }
            out.push(Some(field));
        } else {
            let mut field = String::new();
            while let Some(c) = chars.next_if(|c| *c != ' ' && *c != '\t') {
                if c == '"' {
                    return Err(format!("field {}: a quote inside an unquoted field", out.len() + 1));
                }
                field.push(c);
            }
            out.push((field != "NULL").then_some(field));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn fields_are_separated_by_runs_of_spaces_and_may_be_quoted() {
        let t = parse("edge_type_id   target_query delay  model_template\n\
                       100 \"ei=='e' & x == 1\" 2.0 NULL\n\
                       \n\
                       101\t\"say \"\"hi\"\"\" 1.5   \"NULL\"\r\n")
        .unwrap();
        assert_eq!(t.columns, ["edge_type_id", "target_query", "delay", "model_template"]);
        assert_eq!(t.rows[0], [s("100"), s("ei=='e' & x == 1"), s("2.0"), None]);
        assert_eq!(t.rows[1], [s("101"), s("say \"hi\""), s("1.5"), s("NULL")]);
        assert_eq!(t.column("delay"), Some(2));
        assert_eq!(t.column("syn_weight"), None);
    }

    #[test]
    fn malformed_lines_are_named() {
        let e = |text: &str| parse(text).unwrap_err();
        assert_eq!(e(""), "is empty: it needs a header of column names");
        assert_eq!(e("a b\n1 2 3\n"), "line 2: 3 values for the header's 2 columns");
        assert_eq!(e("a b\n1\n"), "line 2: 1 value for the header's 2 columns");
        assert_eq!(e("a b\n1 \"2\n"), "line 2: field 2 opens a quote it does not close");
        assert_eq!(e("a b\n1 \"2\"x\n"), "line 2: field 2: text follows its closing quote");
        assert_eq!(e("a b\n1 2\"\n"), "line 2: field 2: a quote inside an unquoted field");
        assert_eq!(e("a a\n"), "line 1: column `a` is named twice");
    }
}

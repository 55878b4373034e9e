//! Where each CSV record starts, and the first fault that stops a CSV reader, from one pass over the
//! bytes with the quoting rules of RFC 4180. polars reads the table; this scan only locates: it
//! turns a row number into the physical line it starts on (a quoted field may span lines), and
//! polars' errors without a line into `file:line`.

/// What a scan found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Scan {
    /// The 1-based physical line each non-empty record starts on, the header first.
    pub(crate) record_lines: Vec<usize>,
    /// The first fault in file order, if any.
    pub(crate) fault: Option<Fault>,
}

/// A fault that makes a CSV file unreadable, with the 1-based line it is on.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    InvalidUtf8 {
        line: usize,
    },
    UnterminatedQuote {
        line: usize,
    },
    TooManyFields {
        line: usize,
        expected: usize,
        found: usize,
    },
}

impl Fault {
    /// The message after `file:line: `.
    pub(crate) fn line_and_message(&self) -> (usize, String) {
        match *self {
            Fault::InvalidUtf8 { line } => {
                (line, "expected UTF-8 text, found invalid bytes".into())
            }
            Fault::UnterminatedQuote { line } => (
                line,
                "a quoted field starts here and is never closed; expected a closing `\"`".into(),
            ),
            Fault::TooManyFields {
                line,
                expected,
                found,
            } => (
                line,
                format!("expected {expected} fields, as in the header, found {found}"),
            ),
        }
    }
}

/// Scans `bytes`, a CSV file with `,` between fields and `"` around quoted ones. A UTF-8 byte-order
/// mark is skipped; blank lines are not records.
pub(crate) fn scan(bytes: &[u8]) -> Scan {
    let mut scan = Scan {
        record_lines: Vec::new(),
        fault: std::str::from_utf8(bytes)
            .err()
            .map(|err| Fault::InvalidUtf8 {
                line: line_of(bytes, err.valid_up_to()),
            }),
    };
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut header_fields = None;
    let mut line = 1;
    let mut record = Record::new(line);
    let mut in_quotes = false;
    let mut quote_line = 0;
    let mut i = 0;
    while i < body.len() {
        let byte = body[i];
        if in_quotes {
            match byte {
                b'"' if body.get(i + 1) == Some(&b'"') => i += 1,
                b'"' => in_quotes = false,
                b'\n' => line += 1,
                _ => {}
            }
        } else {
            match byte {
                b'"' if record.at_field_start => {
                    in_quotes = true;
                    quote_line = line;
                    record.touch();
                }
                b',' => {
                    record.fields += 1;
                    record.at_field_start = true;
                    record.empty = false;
                }
                b'\n' => {
                    scan.finish(&record, &mut header_fields);
                    line += 1;
                    record = Record::new(line);
                }
                b'\r' => {}
                _ => record.touch(),
            }
        }
        i += 1;
    }
    if in_quotes {
        scan.note(Fault::UnterminatedQuote { line: quote_line });
    } else {
        scan.finish(&record, &mut header_fields);
    }
    scan
}

impl Scan {
    /// Ends a record: notes where it starts, and a field count above the header's.
    fn finish(&mut self, record: &Record, header_fields: &mut Option<usize>) {
        if record.empty {
            return;
        }
        self.record_lines.push(record.line);
        let expected = *header_fields.get_or_insert(record.fields);
        if record.fields > expected {
            self.note(Fault::TooManyFields {
                line: record.line,
                expected,
                found: record.fields,
            });
        }
    }

    /// Keeps the fault on the earliest line.
    fn note(&mut self, fault: Fault) {
        let line = |f: &Fault| f.line_and_message().0;
        if self
            .fault
            .as_ref()
            .is_none_or(|old| line(&fault) < line(old))
        {
            self.fault = Some(fault);
        }
    }
}

/// The record being scanned.
struct Record {
    /// The line it starts on.
    line: usize,
    fields: usize,
    at_field_start: bool,
    empty: bool,
}

impl Record {
    fn new(line: usize) -> Record {
        Record {
            line,
            fields: 1,
            at_field_start: true,
            empty: true,
        }
    }

    fn touch(&mut self) {
        self.at_field_start = false;
        self.empty = false;
    }
}

/// The 1-based line of byte offset `at`. Called once, for an error: a plain count is fast enough.
#[allow(clippy::naive_bytecount)]
fn line_of(bytes: &[u8], at: usize) -> usize {
    1 + bytes[..at].iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(text: &[u8]) -> Option<(usize, String)> {
        scan(text).fault.map(|f| f.line_and_message())
    }

    #[test]
    fn records_start_on_their_physical_lines() {
        let text = b"\xEF\xBB\xBFa,b\r\n1,\"two\nlines\"\r\n\n3,\"say \"\"hi\"\"\"\n4,5";
        let scan = scan(text);
        assert_eq!(scan.record_lines, [1, 2, 5, 6]);
        assert_eq!(scan.fault, None);
    }

    #[test]
    fn faults_are_found_on_their_lines() {
        assert_eq!(
            fault(b"a,b\n1,2\n3,\"open\n4,5\n"),
            Some((
                3,
                "a quoted field starts here and is never closed; expected a closing `\"`".into()
            ))
        );
        assert_eq!(
            fault(b"a,b\n1,\"x\ny\"\n1,2,3\n"),
            Some((4, "expected 2 fields, as in the header, found 3".into()))
        );
        assert_eq!(
            fault(b"a,b\n1,2\n\xff,2\n1,2,3\n"),
            Some((3, "expected UTF-8 text, found invalid bytes".into()))
        );
        // A quote inside an unquoted field is text, and fewer fields are not a fault.
        assert_eq!(fault(b"a,b\n1\"2,3\n4\n"), None);
    }
}

//! `handoff -batch FILE`: the commands of a file, one per line.
//!
//! A line is split into words as a shell would, minimally:
//!
//! - words are separated by blanks (spaces, tabs);
//! - blank lines are skipped, and so is everything from a `#` that starts
//!   a word to the end of the line (comment lines, trailing comments);
//! - `"..."` and `'...'` quote blanks and `#` (`"a b"` is one word, `""` an
//!   empty one; quotes may be glued to other text: `a"b c"` is `ab c`); a
//!   quoted string ends on its line;
//! - a backslash outside quotes takes the next character as it is (`\ `,
//!   `\"`, `\#`, `\\`); inside double quotes only `\"` and `\\` are
//!   escapes, other backslashes are kept; inside single quotes nothing is;
//! - a backslash at the end of a line (outside single quotes) joins the
//!   next line to it, without the backslash and the newline.
//!
//! There are no variables, globs or other expansions.

use std::io::BufRead;

use crate::netlink::strerror;
use crate::Error;

/// Why a line could not be split into words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// A quoted string without its closing quote (the quote character).
    Unterminated(char),
    /// The line ends with a backslash: the command goes on at the next line.
    Continued,
}

/// Split a line into words (see the module's documentation); no words for a
/// blank or comment line.
pub fn split_words(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| is_blank(*c)).is_some() {}
        if matches!(chars.peek(), None | Some('#')) {
            return Ok(words);
        }
        let mut word = String::new();
        while let Some(c) = chars.next() {
            match c {
                c if is_blank(c) => break,
                '\\' => word.push(chars.next().ok_or(SplitError::Continued)?),
                '\'' => loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(SplitError::Unterminated('\'')),
                    }
                },
                '"' => loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(SplitError::Continued),
                        },
                        Some(c) => word.push(c),
                        None => return Err(SplitError::Unterminated('"')),
                    }
                },
                c => word.push(c),
            }
        }
        words.push(word);
    }
}

fn is_blank(c: char) -> bool {
    c.is_ascii_whitespace()
}

/// A command of a batch input: the number of the line it starts on, and
/// its words or why they could not be split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub number: usize,
    pub words: Result<Vec<String>, Error>,
}

/// The commands of a batch input, read a line at a time (a command runs
/// before the next line is read).
pub struct Lines<R> {
    input: R,
    /// The input as messages name it: `"FILE"` or `standard input`.
    name: String,
    number: usize,
}

impl<R: BufRead> Lines<R> {
    pub fn new(input: R, name: String) -> Lines<R> {
        Lines {
            input,
            name,
            number: 0,
        }
    }

    /// The next physical line, without its newline; `None` at the end.
    fn read_line(&mut self) -> Result<Option<String>, Error> {
        let mut buf = Vec::new();
        match self.input.read_until(b'\n', &mut buf) {
            Ok(0) => Ok(None),
            Ok(_) => {
                self.number += 1;
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
            }
            Err(e) => {
                let msg = e.raw_os_error().map_or_else(|| e.to_string(), strerror);
                Err(Error::Fail(format!("cannot read {}: {msg}", self.name)))
            }
        }
    }

    /// The next command, blank and comment lines skipped; `None` at the
    /// end.  `Err` is a read error: no more commands can be had.
    pub fn next_line(&mut self) -> Result<Option<Line>, Error> {
        loop {
            let Some(mut text) = self.read_line()? else {
                return Ok(None);
            };
            let number = self.number;
            loop {
                match split_words(&text) {
                    Ok(words) if words.is_empty() => break,
                    Ok(words) => {
                        return Ok(Some(Line {
                            number,
                            words: Ok(words),
                        }))
                    }
                    Err(SplitError::Continued) => {
                        // Without the backslash the text no longer ends in
                        // an escape: at the end of the input, it splits.
                        text.pop();
                        if let Some(more) = self.read_line()? {
                            text.push_str(&more);
                        }
                    }
                    Err(SplitError::Unterminated(q)) => {
                        return Ok(Some(Line {
                            number,
                            words: Err(Error::Usage(format!(
                                "unterminated quoted string (no closing {q})"
                            ))),
                        }))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        split_words(s).unwrap_or_else(|e| panic!("{s:?}: {e:?}"))
    }

    #[test]
    fn words() {
        assert_eq!(split("node show"), ["node", "show"]);
        assert_eq!(
            split("  peer\tadd 2   10.0.0.2 \r"),
            ["peer", "add", "2", "10.0.0.2"]
        );
        assert!(split("").is_empty());
        assert!(split(" \t ").is_empty());
    }

    #[test]
    fn comments() {
        assert!(split("# a comment").is_empty());
        assert!(split("   # indented \"unterminated").is_empty());
        assert!(split("#").is_empty());
        assert_eq!(split("node show # trailing"), ["node", "show"]);
        assert_eq!(split("node show #trailing"), ["node", "show"]);
        // Only at the start of a word.
        assert_eq!(split("match /a#b node 1"), ["match", "/a#b", "node", "1"]);
        assert_eq!(split("\"#\" \\# '#x'"), ["#", "#", "#x"]);
        // A comment does not go on at the next line.
        assert!(split("# comment \\").is_empty());
    }

    #[test]
    fn quotes() {
        assert_eq!(split("a \"b c\" d"), ["a", "b c", "d"]);
        assert_eq!(split("'b  c' \"\""), ["b  c", ""]);
        assert_eq!(split("''"), [""]);
        assert_eq!(split("a\"b c\"d"), ["ab cd"]);
        assert_eq!(split("\"it's\" 'say \"hi\"'"), ["it's", "say \"hi\""]);
        assert_eq!(split("\"a\\\"b\\\\c\\d\""), ["a\"b\\c\\d"]);
        assert_eq!(split("'a\\b'"), ["a\\b"]);
    }

    #[test]
    fn escapes() {
        assert_eq!(split("a\\ b c"), ["a b", "c"]);
        assert_eq!(split("\\\"a \\\\ \\'"), ["\"a", "\\", "'"]);
        assert_eq!(split("\\x"), ["x"]);
    }

    #[test]
    fn errors() {
        assert_eq!(split_words("a \"b c"), Err(SplitError::Unterminated('"')));
        assert_eq!(split_words("a 'b"), Err(SplitError::Unterminated('\'')));
        assert_eq!(split_words("\"\\\""), Err(SplitError::Unterminated('"')));
        assert_eq!(split_words("node \\"), Err(SplitError::Continued));
        assert_eq!(split_words("\"no\\"), Err(SplitError::Continued));
        // An escaped backslash does not continue; a quoted one is literal.
        assert_eq!(split("node \\\\"), ["node", "\\"]);
        assert_eq!(split_words("'a\\"), Err(SplitError::Unterminated('\'')));
    }

    fn lines(input: &str) -> Vec<(usize, Result<Vec<String>, Error>)> {
        let mut l = Lines::new(input.as_bytes(), "standard input".into());
        let mut out = Vec::new();
        while let Some(line) = l.next_line().unwrap() {
            out.push((line.number, line.words));
        }
        out
    }

    fn ok(words: &[&str]) -> Result<Vec<String>, Error> {
        Ok(words.iter().map(|w| w.to_string()).collect())
    }

    #[test]
    fn numbered_lines() {
        let input = "# header\n\nnode show\n  \n\t# indented\nservice \"show\"\r\npeer show 2";
        assert_eq!(
            lines(input),
            [
                (3, ok(&["node", "show"])),
                (6, ok(&["service", "show"])),
                (7, ok(&["peer", "show", "2"])),
            ]
        );
        assert!(lines("").is_empty());
        assert!(lines("\n\n# only comments\n").is_empty());
    }

    #[test]
    fn continued_lines() {
        let input = "peer add 2 \\\n  10.0.0.2 \\\n  weight 3\nno\\\nde show\n\"a\\\nb\"\nlast \\";
        assert_eq!(
            lines(input),
            [
                (1, ok(&["peer", "add", "2", "10.0.0.2", "weight", "3"])),
                (4, ok(&["node", "show"])),
                (6, ok(&["ab"])),
                (8, ok(&["last"])),
            ]
        );
    }

    #[test]
    fn unterminated_quote_names_its_line() {
        let got = lines("node show\nservice add \"10.0.0.1:80\nnode show\n'\n");
        let err = |q: char| {
            Err(Error::Usage(format!(
                "unterminated quoted string (no closing {q})"
            )))
        };
        assert_eq!(
            got,
            [
                (1, ok(&["node", "show"])),
                (2, err('"')),
                (3, ok(&["node", "show"])),
                (4, err('\'')),
            ]
        );
    }

    #[test]
    fn read_errors() {
        struct Broken;
        impl std::io::Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::from_raw_os_error(libc::EISDIR))
            }
        }
        let mut l = Lines::new(std::io::BufReader::new(Broken), "\"dir\"".into());
        assert_eq!(
            l.next_line(),
            Err(Error::Fail(
                "cannot read \"dir\": Is a directory".to_string()
            ))
        );
    }
}

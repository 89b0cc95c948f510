//! Splitting an inline (telnet-style) request line into arguments, as Redis's `sdssplitargs` does.
//!
//! Redis works on C strings: a NUL ends the line (inside quotes it leaves them unbalanced), and "space" is C's
//! `isspace`, which counts the vertical tab. Every argument consumes at least one byte of the line, so the loop
//! always ends and the output never outgrows the input.

/// C's `isspace`; Rust's `is_ascii_whitespace` leaves out the vertical tab.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits `line` into arguments, appended to `data` with their spans pushed to `spans`. False means unbalanced
/// quotes (or a closing quote not followed by a space), which Redis reports as a protocol error.
pub fn split_args_into(line: &[u8], data: &mut Vec<u8>, spans: &mut Vec<(usize, usize)>) -> bool {
    let line = match memchr::memchr(0, line) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return true;
        }
        let begin = data.len();
        match one_arg(line, i, data) {
            Some(next) => i = next,
            None => return false,
        }
        spans.push((begin, data.len()));
    }
}

/// Splits `line` into owned arguments; `None` for unbalanced quotes. For the config file, off the hot path.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let (mut data, mut spans) = (Vec::new(), Vec::new());
    if !split_args_into(line, &mut data, &mut spans) {
        return None;
    }
    Some(spans.iter().map(|&(s, e)| data[s..e].to_vec()).collect())
}

/// Reads the argument starting at `i` (not a space) into `out`; returns where the next one may start, or `None`
/// for unbalanced quotes.
fn one_arg(line: &[u8], mut i: usize, out: &mut Vec<u8>) -> Option<usize> {
    let mut quote: Option<u8> = None;
    loop {
        let Some(&c) = line.get(i) else {
            return quote.is_none().then_some(i);
        };
        match quote {
            None => match c {
                b' ' | b'\n' | b'\r' | b'\t' => return Some(i),
                b'"' | b'\'' => quote = Some(c),
                _ => out.push(c),
            },
            Some(q) if c == q => {
                // The closing quote must be followed by a space or the end of the line.
                return match line.get(i + 1) {
                    Some(&next) if !is_space(next) => None,
                    _ => Some(i + 1),
                };
            }
            Some(b'"') if c == b'\\' => i = escape(line, i, out),
            Some(_) if c == b'\\' && line.get(i + 1) == Some(&b'\'') => {
                out.push(b'\'');
                i += 1;
            }
            Some(_) => out.push(c),
        }
        i += 1;
    }
}

/// A backslash inside double quotes at `i`: `\xHH`, `\n` `\r` `\t` `\b` `\a`, or any other byte taken as is.
/// Returns the index of the escape's last byte.
fn escape(line: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    let hex = |k: usize| line.get(k).copied().and_then(hex_value);
    if line.get(i + 1) == Some(&b'x') {
        if let (Some(hi), Some(lo)) = (hex(i + 2), hex(i + 3)) {
            out.push(hi * 16 + lo);
            return i + 3;
        }
    }
    let Some(&c) = line.get(i + 1) else {
        out.push(b'\\'); // a trailing backslash is kept; the missing quote fails the argument next
        return i;
    };
    out.push(match c {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 8,
        b'a' => 7,
        other => other,
    });
    i + 1
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn split(s: &[u8]) -> Option<Vec<String>> {
        split_args(s).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    #[test]
    fn plain_and_quoted() {
        assert_eq!(split(b"set k v").unwrap(), ["set", "k", "v"]);
        assert_eq!(
            split(b"  set  \"a b\" 'c d' ").unwrap(),
            ["set", "a b", "c d"]
        );
        assert_eq!(split(br#"set "\x41\n" x"#).unwrap(), ["set", "A\n", "x"]);
        assert_eq!(split(br#"set "\x4" "\q""#).unwrap(), ["set", "x4", "q"]);
        assert_eq!(split(br"set 'it\'s' x").unwrap(), ["set", "it's", "x"]);
        assert_eq!(split(br#"a "" ''"#).unwrap(), ["a", "", ""]);
        assert_eq!(split(b"").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn c_string_rules() {
        // A NUL ends the line, as it ends a C string; inside quotes it leaves them open.
        assert_eq!(split(b"set k v\0garbage").unwrap(), ["set", "k", "v"]);
        assert_eq!(split(b"\0set").unwrap(), Vec::<String>::new());
        assert!(split(b"set \"k\0\"").is_none());
        // The vertical tab is a space between arguments and after a closing quote, but not inside a word.
        assert_eq!(split(b"\x0bping\x0b").unwrap(), ["ping\x0b"]);
        assert_eq!(split(b"echo \"a\"\x0b").unwrap(), ["echo", "a"]);
    }

    #[test]
    fn unbalanced() {
        assert!(split(b"set \"abc").is_none());
        assert!(split(b"set 'abc").is_none());
        assert!(split(b"set \"a\"b").is_none());
        assert!(split(b"set 'a'b").is_none());
        assert!(split(b"set \"abc\\").is_none());
        assert!(split(b"pi\"ng").is_none());
    }
}

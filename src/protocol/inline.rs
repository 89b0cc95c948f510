//! Splitting an inline (telnet-style) request line into arguments, as Redis's `sdssplitargs` does.

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits `line` into arguments; `None` means unbalanced quotes (or a closing quote not followed by a space),
/// which Redis reports as a protocol error.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut current = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            let c = line.get(i).copied();
            if in_dq {
                match c {
                    None => return None,
                    Some(b'\\')
                        if i + 3 < n
                            && line[i + 1] == b'x'
                            && hex_value(line[i + 2]).is_some()
                            && hex_value(line[i + 3]).is_some() =>
                    {
                        let hi = hex_value(line[i + 2]).unwrap_or(0);
                        let lo = hex_value(line[i + 3]).unwrap_or(0);
                        current.push(hi * 16 + lo);
                        i += 3;
                    }
                    Some(b'\\') if i + 1 < n => {
                        i += 1;
                        current.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        // The closing quote must be followed by a space or the end of the line.
                        if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(other) => current.push(other),
                }
            } else if in_sq {
                match c {
                    None => return None,
                    Some(b'\\') if i + 1 < n && line[i + 1] == b'\'' => {
                        i += 1;
                        current.push(b'\'');
                    }
                    Some(b'\'') => {
                        if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(other) => current.push(other),
                }
            } else {
                match c {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t' | b'\0') => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(other) => current.push(other),
                }
            }
            i += 1;
        }
        args.push(current);
    }
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn split(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    #[test]
    fn plain_and_quoted() {
        assert_eq!(split("set k v").unwrap(), ["set", "k", "v"]);
        assert_eq!(
            split("  set  \"a b\" 'c d' ").unwrap(),
            ["set", "a b", "c d"]
        );
        assert_eq!(split(r#"set "\x41\n" x"#).unwrap(), ["set", "A\n", "x"]);
        assert_eq!(split(r"set 'it\'s' x").unwrap(), ["set", "it's", "x"]);
        assert_eq!(split("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn unbalanced() {
        assert!(split("set \"abc").is_none());
        assert!(split("set 'abc").is_none());
        assert!(split("set \"a\"b").is_none());
    }
}

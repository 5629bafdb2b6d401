//! Operator routing overrides, curl-style `--connect-to HOST:PORT:ADDR:PORT`.

use std::{fmt, str::FromStr};

/// One `--connect-to` rule: requests to `host:port` connect to `target_host:target_port`
/// instead, while TLS still checks the certificate for `host`. The target is the operator's
/// choice and is exempt from the destination policy; hooks cannot create rules.
///
/// ```
/// use flowstate_egress::ConnectTo;
/// let rule: ConnectTo = "hr.example.com:443:127.0.0.1:8443".parse().unwrap();
/// assert_eq!(rule.host(), "hr.example.com");
/// assert_eq!(rule.target(), ("127.0.0.1", 8443));
/// let v6: ConnectTo = "api.example.com:443:[::1]:9000".parse().unwrap();
/// assert_eq!(v6.target(), ("::1", 9000));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectTo {
    host: String,
    port: u16,
    target_host: String,
    target_port: u16,
}

impl ConnectTo {
    /// The host name requests are addressed to (lower case).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port requests are addressed to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where such requests connect instead: an IP address or a host name, and a port.
    pub fn target(&self) -> (&str, u16) {
        (&self.target_host, self.target_port)
    }
}

/// A `--connect-to` value that is not `HOST:PORT:ADDR:PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectToParseError {
    input: String,
    problem: &'static str,
}

impl fmt::Display for ConnectToParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid connect-to rule {:?}: {} (expected HOST:PORT:ADDR:PORT, e.g. hr.example.com:443:127.0.0.1:8443)",
            self.input, self.problem
        )
    }
}

impl std::error::Error for ConnectToParseError {}

/// Splits off one `host:` or `[v6]:` field from the front of `rest`.
fn take_host(rest: &str) -> Option<(&str, &str)> {
    if let Some(bracketed) = rest.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        Some((host, after.strip_prefix(':')?))
    } else {
        rest.split_once(':')
    }
}

impl FromStr for ConnectTo {
    type Err = ConnectToParseError;

    fn from_str(input: &str) -> Result<ConnectTo, ConnectToParseError> {
        let error = |problem| ConnectToParseError { input: input.to_string(), problem };
        let (host, rest) = take_host(input).ok_or_else(|| error("missing fields"))?;
        let (port, rest) = rest.split_once(':').ok_or_else(|| error("missing fields"))?;
        let (target_host, target_port) = take_host(rest).ok_or_else(|| error("missing fields"))?;
        if host.is_empty() || target_host.is_empty() {
            return Err(error("host names must not be empty"));
        }
        let port: u16 = port.parse().map_err(|_| error("PORT is not a port number"))?;
        let target_port: u16 = target_port.parse().map_err(|_| error("the target PORT is not a port number"))?;
        if port == 0 || target_port == 0 {
            return Err(error("port 0 is not allowed"));
        }
        Ok(ConnectTo {
            host: host.trim_end_matches('.').to_ascii_lowercase(),
            port,
            target_host: target_host.to_string(),
            target_port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let rule: ConnectTo = "HR.Example.com:443:localhost:8443".parse().unwrap();
        assert_eq!((rule.host(), rule.port(), rule.target()), ("hr.example.com", 443, ("localhost", 8443)));
        for bad in ["", "a:1:b", "a:x:b:1", "a:1:b:y", ":443:1.2.3.4:1", "a:0:b:1", "a:1:[::1:5"] {
            assert!(bad.parse::<ConnectTo>().is_err(), "{bad}");
        }
    }
}

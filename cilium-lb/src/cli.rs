//! The argument handling of the `maglev` example, kept here so that tests can drive it.
//!
//! ```text
//! maglev [--table-size M] [--seed BASE64] ADDR:PORT/PROTO[/i][@WEIGHT] ...
//! ```
//!
//! Each backend's id is its position among the backend arguments (0, 1, ...), so the printed
//! table is a JSON array of those positions. IPv6 addresses are written `[addr]:port/PROTO`;
//! `/i` marks the internal scope; the weight defaults to 1 (0 leaves the backend out).
//!
//! ```
//! let out = cilium_lb::cli::run(&["--table-size", "251", "10.0.0.1:80/TCP", "10.0.0.2:80/TCP"])
//!     .unwrap();
//! assert!(out.starts_with('[') && out.ends_with(']'));
//! assert_eq!(out.split(',').count(), 251);
//! ```

use std::net::{IpAddr, Ipv4Addr};

use cilium_core::Protocol;

use crate::maglev::{self, MaglevBackend, MaglevConfig, MaglevError};

/// The usage text.
pub const USAGE: &str = "\
usage: maglev [--table-size M] [--seed BASE64] ADDR:PORT/PROTO[/i][@WEIGHT] ...

Prints the Maglev lookup table of the backends as a JSON array of backend indices
(the position of each backend among the arguments, from 0).

  --table-size M   one of 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071
                   (default 16381)
  --seed BASE64    12 bytes of base64 (default JLfvgnHc2kaSUFaI)
  ADDR:PORT/PROTO  a backend: 10.0.0.1:80/TCP, [2001:db8::1]:53/UDP; PROTO is TCP, UDP or
                   SCTP; /i marks the internal scope; @WEIGHT (0..=65535, default 1)
";

/// A bad command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// An option without its value.
    #[error("{option}: needs a value")]
    MissingValue {
        /// The option.
        option: String,
    },
    /// An option this tool does not know.
    #[error("{option}: unknown option")]
    UnknownOption {
        /// The option as given.
        option: String,
    },
    /// The table size is not a number.
    #[error("--table-size: {value:?} is not a number")]
    TableSizeNotNumber {
        /// The value given.
        value: String,
    },
    /// A backend argument that does not parse.
    #[error("backend {arg:?}: {reason}")]
    Backend {
        /// The argument as given.
        arg: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No backend argument.
    #[error("no backend given; see --help")]
    NoBackends,
    /// The table size, the seed or the backends were refused by the Maglev builder.
    #[error(transparent)]
    Maglev {
        /// The builder's error.
        #[from]
        source: MaglevError,
    },
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// `-h` or `--help`.
    Help,
    /// Build and print a table.
    Build {
        /// Table size and seed.
        config: MaglevConfig,
        /// The backends, ids 0, 1, ... in argument order.
        backends: Vec<MaglevBackend>,
    },
}

/// Parses the arguments (without the program name).
pub fn parse_args<S: AsRef<str>>(args: &[S]) -> Result<Invocation, CliError> {
    let mut table_size: Option<String> = None;
    let mut seed: Option<String> = None;
    let mut backend_args: Vec<&str> = Vec::new();
    let mut options_done = false;
    let mut iter = args.iter().map(AsRef::as_ref);
    while let Some(arg) = iter.next() {
        if options_done || !arg.starts_with('-') {
            backend_args.push(arg);
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg, None),
        };
        let mut value = |option: &str| {
            inline
                .map(str::to_owned)
                .or_else(|| iter.next().map(str::to_owned))
                .ok_or_else(|| CliError::MissingValue {
                    option: option.to_owned(),
                })
        };
        match name {
            "-h" | "--help" => return Ok(Invocation::Help),
            "--" => options_done = true,
            "--table-size" => table_size = Some(value(name)?),
            "--seed" => seed = Some(value(name)?),
            _ => {
                return Err(CliError::UnknownOption {
                    option: arg.to_owned(),
                });
            }
        }
    }

    let table_size = match table_size {
        None => maglev::DEFAULT_TABLE_SIZE,
        Some(v) => v
            .parse()
            .map_err(|_| CliError::TableSizeNotNumber { value: v.clone() })?,
    };
    let config = MaglevConfig::new(table_size, seed.as_deref())?;
    if backend_args.is_empty() {
        return Err(CliError::NoBackends);
    }
    let backends = backend_args
        .iter()
        .enumerate()
        .map(|(i, arg)| parse_backend_arg(arg, u32::try_from(i).unwrap_or(u32::MAX)))
        .collect::<Result<_, _>>()?;
    Ok(Invocation::Build { config, backends })
}

/// Parses one backend, `ADDR:PORT/PROTO[/i][@WEIGHT]` (IPv6 as `[ADDR]:PORT/...`), giving it
/// the id `id`.
///
/// ```
/// use cilium_core::Protocol;
/// use cilium_lb::cli::parse_backend_arg;
///
/// let b = parse_backend_arg("[2001:db8::1]:53/UDP@7", 4).unwrap();
/// assert_eq!((b.id, b.port, b.protocol, b.weight), (4, 53, Protocol::Udp, 7));
/// assert_eq!(b.hash_string(), "[[2001:db8::1]:53/UDP,State:active]");
/// assert!(parse_backend_arg("10.0.0.1/TCP", 0).is_err());
/// ```
pub fn parse_backend_arg(arg: &str, id: u32) -> Result<MaglevBackend, CliError> {
    let bad = |reason: &str| CliError::Backend {
        arg: arg.to_owned(),
        reason: reason.to_owned(),
    };
    let (rest, weight) = match arg.rsplit_once('@') {
        Some((rest, w)) => {
            let weight = w
                .parse::<u16>()
                .map_err(|_| bad(&format!("weight {w:?} is not a number in 0..=65535")))?;
            (rest, weight)
        }
        None => (arg, 1),
    };
    let (rest, internal_scope) = match rest.strip_suffix("/i") {
        Some(rest) => (rest, true),
        None => (rest, false),
    };
    let (host_port, proto) = rest
        .rsplit_once('/')
        .ok_or_else(|| bad("expected ADDR:PORT/PROTO[/i][@WEIGHT]"))?;
    let protocol: Protocol = proto
        .parse()
        .ok()
        .filter(|p: &Protocol| p.has_ports())
        .ok_or_else(|| bad(&format!("protocol {proto:?} is not TCP, UDP or SCTP")))?;
    let (addr, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (addr, port) = v6
            .split_once("]:")
            .ok_or_else(|| bad("expected [IPV6]:PORT"))?;
        let addr: IpAddr = addr
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| bad(&format!("{addr:?} is not an IPv6 address")))?
            .into();
        (addr, port)
    } else {
        let (addr, port) = host_port
            .rsplit_once(':')
            .ok_or_else(|| bad("expected ADDR:PORT/PROTO[/i][@WEIGHT]"))?;
        let addr: IpAddr = addr
            .parse::<Ipv4Addr>()
            .map_err(|_| {
                bad(&format!(
                    "{addr:?} is not an IPv4 address (write IPv6 as [ADDR]:PORT)"
                ))
            })?
            .into();
        (addr, port)
    };
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| bad(&format!("port {port:?} is not a number in 1..=65535")))?;
    Ok(MaglevBackend {
        id,
        addr,
        port,
        protocol,
        weight,
        internal_scope,
    })
}

/// A table as a compact JSON array: `[2,2,0,...]`.
pub fn table_to_json(table: &[u32]) -> String {
    let mut out = String::with_capacity(table.len() * 3 + 2);
    out.push('[');
    for (i, id) in table.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out.push(']');
    out
}

/// Parses the arguments, builds the table and returns what to print: the JSON array, or the
/// usage text for `--help`.
pub fn run<S: AsRef<str>>(args: &[S]) -> Result<String, CliError> {
    match parse_args(args)? {
        Invocation::Help => Ok(USAGE.to_owned()),
        Invocation::Build { config, backends } => {
            let table = maglev::build_table(&config, &backends)?;
            Ok(table_to_json(&table))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_args() {
        let b = parse_backend_arg("0.0.0.1:1/TCP@2", 0).unwrap();
        assert_eq!(b.hash_string(), "[0.0.0.1:1/TCP,State:active]");
        assert_eq!(b.weight, 2);
        let b = parse_backend_arg("10.0.0.1:80/udp/i", 3).unwrap();
        assert_eq!(b.hash_string(), "[10.0.0.1:80/UDP/i,State:active]");
        assert_eq!((b.id, b.weight), (3, 1));

        let err = |a: &str| parse_backend_arg(a, 0).unwrap_err().to_string();
        assert_eq!(
            err("10.0.0.1:80/GRE"),
            "backend \"10.0.0.1:80/GRE\": protocol \"GRE\" is not TCP, UDP or SCTP"
        );
        assert_eq!(
            err("10.0.0.1:0/TCP"),
            "backend \"10.0.0.1:0/TCP\": port \"0\" is not a number in 1..=65535"
        );
        assert_eq!(
            err("10.0.0.1:80/TCP@x"),
            "backend \"10.0.0.1:80/TCP@x\": weight \"x\" is not a number in 0..=65535"
        );
        assert!(err("2001:db8::1:80/TCP").contains("write IPv6 as [ADDR]:PORT"));
        assert!(err("[2001:db8::1]80/TCP").contains("expected [IPV6]:PORT"));
        assert!(err("10.0.0.1:80").contains("expected ADDR:PORT/PROTO"));
    }

    #[test]
    fn options() {
        assert_eq!(parse_args(&["--help"]), Ok(Invocation::Help));
        assert_eq!(
            parse_args(&["--table-size"]),
            Err(CliError::MissingValue {
                option: "--table-size".into()
            })
        );
        assert_eq!(
            parse_args(&["--tablesize", "3"]),
            Err(CliError::UnknownOption {
                option: "--tablesize".into()
            })
        );
        assert_eq!(
            parse_args(&["--table-size=abc", "10.0.0.1:80/TCP"]),
            Err(CliError::TableSizeNotNumber {
                value: "abc".into()
            })
        );
        assert_eq!(parse_args(&["--table-size=251"]), Err(CliError::NoBackends));
        assert!(
            parse_args(&["--table-size", "250", "10.0.0.1:80/TCP"])
                .unwrap_err()
                .to_string()
                .starts_with("table_size: 250 is not")
        );
        assert!(
            run(&["--seed=AAAA", "10.0.0.1:80/TCP"])
                .unwrap_err()
                .to_string()
                .starts_with("seed: \"AAAA\" decodes to 3 bytes")
        );
        let Invocation::Build { config, backends } =
            parse_args(&["--seed", "JLfvgnHc2kaSUFaI", "--", "10.0.0.1:80/TCP"]).unwrap()
        else {
            panic!("not a build");
        };
        assert_eq!(config, MaglevConfig::default());
        assert_eq!(backends.len(), 1);
        assert_eq!(table_to_json(&[2, 0, 1]), "[2,0,1]");
        assert_eq!(table_to_json(&[]), "[]");
    }
}

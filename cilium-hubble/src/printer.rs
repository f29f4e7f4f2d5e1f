//! Flows printed the way `hubble observe` prints them: `compact` one-liners, `dict` blocks,
//! an aligned `table`, and `json`/`jsonpb` (one protojson object per line).
//!
//! What `hubble observe` shows is rebuilt here from the flow itself: Hubble's agent sends a
//! precomputed summary (`TCP Flags: SYN`, `HTTP/1.1 200 3ms (GET /)`, ...) in the deprecated
//! `Summary` field; this crate's parser fills that field with [`summary`] (so Hubble's own
//! CLI shows it), and the printer derives the text again from the L4 and L7 parts of the
//! flow, with the wording of Hubble's parsers, so flows from any source print alike. The event type
//! column comes from [`flow_type`].
//!
//! Pure: the printer writes to any [`io::Write`] it is handed and reads no clock. The
//! `observe` example is the I/O shell that feeds it a `GetFlows` stream.
//!
//! ```
//! use cilium_hubble::printer::{Format, Printer, PrinterOptions};
//! use cilium_hubble::proto::{flow, observer};
//!
//! let flow = flow::Flow {
//!     time: Some(pbjson_types::Timestamp { seconds: 1234, nanos: 567_800_000 }),
//!     verdict: flow::Verdict::Forwarded as i32,
//!     ip: Some(flow::Ip { source: "10.0.0.1".into(), destination: "10.0.0.2".into(), ..Default::default() }),
//!     l4: Some(flow::Layer4 { protocol: Some(flow::layer4::Protocol::Udp(flow::Udp { source_port: 5353, destination_port: 53 })) }),
//!     event_type: Some(flow::CiliumEventType { r#type: 4, sub_type: 0 }),
//!     is_reply: Some(pbjson_types::BoolValue { value: false }),
//!     ..Default::default()
//! };
//! let resp = observer::GetFlowsResponse {
//!     response_types: Some(observer::get_flows_response::ResponseTypes::Flow(flow)),
//!     ..Default::default()
//! };
//! let mut out = Vec::new();
//! let mut printer = Printer::new(Format::Compact, PrinterOptions::default());
//! printer.write_response(&mut out, &resp).unwrap();
//! printer.finish(&mut out).unwrap();
//! assert_eq!(
//!     String::from_utf8(out).unwrap(),
//!     "Jan  1 00:20:34.567: 10.0.0.1:5353 (unknown) -> 10.0.0.2:53 (unknown) to-endpoint FORWARDED (UDP)\n"
//! );
//! ```

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::names;
use crate::proto::flow::{
    AuthType, Flow, IpVersion, L7FlowType, LostEvent, LostEventSource, SocketTranslationPoint,
    TrafficDirection, Verdict, layer4, layer7,
};
use crate::proto::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use crate::proto::relay::{NodeState, NodeStatusEvent};

/// The `-o` output formats of `hubble observe`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// One line per flow: `TIMESTAMP: SRC (ID) -> DST (ID) TYPE VERDICT (SUMMARY)`.
    #[default]
    Compact,
    /// Same as [`Format::JsonPb`]: current `hubble` treats `json` as an alias of `jsonpb`.
    Json,
    /// One protojson object per line: the whole `GetFlowsResponse`.
    JsonPb,
    /// Columns aligned over the whole output, written by [`Printer::finish`].
    Table,
    /// `KEY: value` blocks separated by `------------`.
    Dict,
}

impl Format {
    /// The `-o` name of the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Compact => "compact",
            Format::Json => "json",
            Format::JsonPb => "jsonpb",
            Format::Table => "table",
            Format::Dict => "dict",
        }
    }

    /// Whether the format is one of the JSON ones.
    pub fn is_json(self) -> bool {
        matches!(self, Format::Json | Format::JsonPb)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An `-o` value that names no output format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid output format: {0:?} (expected compact, dict, json, jsonpb or table)")]
pub struct ParseFormatError(pub String);

impl FromStr for Format {
    type Err = ParseFormatError;

    /// The names `hubble observe -o` accepts, including its aliases `JSON` and `tab`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "compact" => Format::Compact,
            "json" | "JSON" => Format::Json,
            "jsonpb" => Format::JsonPb,
            "table" | "tab" => Format::Table,
            "dict" => Format::Dict,
            _ => return Err(ParseFormatError(s.to_owned())),
        })
    }
}

/// How the printer renders what it prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrinterOptions {
    /// ANSI colours for endpoints, identities, ports and verdicts (`compact` and `dict`;
    /// `table` is never coloured, as in Hubble).
    pub color: bool,
    /// Print the node name (`--print-node-name`).
    pub node_name: bool,
    /// Show pod, service or DNS names instead of IP addresses (`--ip-translation`, on by
    /// default; `--numeric` turns it off).
    pub ip_translation: bool,
    /// Also print informational node status events (node connected, node gone), which
    /// Hubble only shows with `--debug`.
    pub debug: bool,
}

impl Default for PrinterOptions {
    fn default() -> Self {
        PrinterOptions {
            color: false,
            node_name: false,
            ip_translation: true,
            debug: false,
        }
    }
}

/// Writes `GetFlows` responses in one [`Format`].
///
/// Keeps the state the formats need across responses: whether a header or a separator is
/// due, and for [`Format::Table`] the rows, which are only written, aligned, by
/// [`Printer::finish`].
#[derive(Debug)]
pub struct Printer {
    format: Format,
    opts: PrinterOptions,
    color: bool,
    line: u64,
    rows: Vec<Vec<String>>,
}

/// The dict separator line.
const DICT_SEPARATOR: &str = "------------";
/// Node names listed in a node status line before `(and N more)`.
const NODE_NAMES_CUT_OFF: usize = 50;

impl Printer {
    /// A printer for `format`.
    pub fn new(format: Format, opts: PrinterOptions) -> Self {
        Printer {
            format,
            opts,
            color: opts.color && format != Format::Table,
            line: 0,
            rows: Vec::new(),
        }
    }

    /// The format this printer writes.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Writes one response: a flow or a lost-events notice. Node status events are left
    /// out (Hubble writes them to stderr: use [`Printer::write_response_to`]).
    pub fn write_response(
        &mut self,
        w: &mut impl Write,
        resp: &GetFlowsResponse,
    ) -> io::Result<()> {
        self.write_response_to(w, &mut io::sink(), resp)
    }

    /// Writes one response, flows and lost events to `out` and node status events to `err`
    /// (only errors and unavailable nodes unless [`PrinterOptions::debug`]).
    pub fn write_response_to(
        &mut self,
        out: &mut impl Write,
        err: &mut impl Write,
        resp: &GetFlowsResponse,
    ) -> io::Result<()> {
        match &resp.response_types {
            Some(ResponseTypes::Flow(flow)) => self.write_flow(out, resp, flow),
            Some(ResponseTypes::LostEvents(lost)) => self.write_lost_events(out, resp, lost),
            Some(ResponseTypes::NodeStatus(status)) => {
                self.write_node_status(out, err, resp, status)
            }
            None => Ok(()),
        }
    }

    /// Ends the output: writes the aligned table (for [`Format::Table`]) and flushes `w`.
    pub fn finish(&mut self, w: &mut impl Write) -> io::Result<()> {
        if !self.rows.is_empty() {
            w.write_all(align_columns(&self.rows).as_bytes())?;
            self.rows.clear();
        }
        w.flush()
    }

    fn write_flow(
        &mut self,
        w: &mut impl Write,
        resp: &GetFlowsResponse,
        flow: &Flow,
    ) -> io::Result<()> {
        if self.format.is_json() {
            return write_json_line(w, resp);
        }
        let time = fmt_timestamp(flow.time.as_ref());
        let node = esc(&flow.node_name);
        match self.format {
            Format::Json | Format::JsonPb => unreachable!("handled above"),
            Format::Table => {
                self.table_header();
                let (src, dst) = self.host_names(flow);
                let mut row = vec![time];
                if self.opts.node_name {
                    row.push(node.into_owned());
                }
                row.extend([
                    src,
                    dst,
                    esc(&flow_type(flow)).into_owned(),
                    self.verdict(flow),
                    self.summary(flow),
                ]);
                self.rows.push(row);
            }
            Format::Dict => {
                let (src, dst) = self.host_names(flow);
                let mut s = String::new();
                if self.line != 0 {
                    s.push_str(DICT_SEPARATOR);
                    s.push('\n');
                }
                s.push_str(&format!("  TIMESTAMP: {time}\n"));
                if self.opts.node_name {
                    s.push_str(&format!("       NODE: {node}\n"));
                }
                s.push_str(&format!(
                    "     SOURCE: {src}\nDESTINATION: {dst}\n       TYPE: {}\n    VERDICT: {}\n    SUMMARY: {}\n",
                    esc(&flow_type(flow)),
                    self.verdict(flow),
                    self.summary(flow),
                ));
                w.write_all(s.as_bytes())?;
            }
            Format::Compact => {
                let (mut src, mut dst) = self.host_names(flow);
                let mut src_id = self.identity(flow.source.as_ref().map_or(0, |e| e.identity));
                let mut dst_id = self.identity(flow.destination.as_ref().map_or(0, |e| e.identity));
                let arrow = match flow.is_reply {
                    // Neither side is known to have started the connection.
                    None => "<>",
                    // A reply: print the connection's initiator first, pointed at.
                    Some(reply) if reply.value => {
                        std::mem::swap(&mut src, &mut dst);
                        std::mem::swap(&mut src_id, &mut dst_id);
                        "<-"
                    }
                    Some(_) => "->",
                };
                let node = if self.opts.node_name {
                    format!(" [{node}]")
                } else {
                    String::new()
                };
                let line = format!(
                    "{time}{node}: {src} {src_id} {arrow} {dst} {dst_id} {} {} ({})\n",
                    esc(&flow_type(flow)),
                    self.verdict(flow),
                    self.summary(flow),
                );
                w.write_all(line.as_bytes())?;
            }
        }
        self.line += 1;
        Ok(())
    }

    fn write_lost_events(
        &mut self,
        w: &mut impl Write,
        resp: &GetFlowsResponse,
        lost: &LostEvent,
    ) -> io::Result<()> {
        let source = enum_name(
            LostEventSource::try_from(lost.source).map(|s| s.as_str_name()),
            lost.source,
        );
        let cpu = lost.cpu.map_or(0, |c| c.value);
        let n = lost.num_events_lost;
        match self.format {
            Format::Json | Format::JsonPb => return write_json_line(w, resp),
            Format::Table => {
                self.table_header();
                let mut row = vec![String::new()];
                if self.opts.node_name {
                    row.push(String::new());
                }
                row.extend([
                    source,
                    String::new(),
                    "EVENTS LOST".to_owned(),
                    String::new(),
                    format!("CPU({cpu}) - {n}"),
                ]);
                self.rows.push(row);
            }
            Format::Dict => {
                let mut s = String::new();
                if self.line != 0 {
                    s.push_str(DICT_SEPARATOR);
                    s.push('\n');
                }
                s.push_str("  TIMESTAMP: \n");
                if self.opts.node_name {
                    s.push_str("       NODE: \n");
                }
                s.push_str(&format!(
                    "     SOURCE: {source}\n       TYPE: EVENTS LOST\n    VERDICT: \n    SUMMARY: CPU({cpu}) - {n}\n"
                ));
                w.write_all(s.as_bytes())?;
            }
            Format::Compact => {
                w.write_all(format!("EVENTS LOST: {source} CPU({cpu}) {n}\n").as_bytes())?;
            }
        }
        self.line += 1;
        Ok(())
    }

    fn write_node_status(
        &mut self,
        out: &mut impl Write,
        err: &mut impl Write,
        resp: &GetFlowsResponse,
        status: &NodeStatusEvent,
    ) -> io::Result<()> {
        let state = NodeState::try_from(status.state_change).ok();
        let noteworthy = matches!(
            state,
            Some(NodeState::NodeError | NodeState::NodeUnavailable)
        );
        if !self.opts.debug && !noteworthy {
            return Ok(());
        }
        let names = esc(&join_with_cut_off(
            &status.node_names,
            ", ",
            NODE_NAMES_CUT_OFF,
        ))
        .into_owned();
        let time = fmt_timestamp(resp.time.as_ref());
        match self.format {
            Format::Json | Format::JsonPb => write_json_line(err, resp),
            Format::Dict => {
                // The separator goes to the flow stream so that interleaved stdout and
                // stderr still read as separate blocks.
                if self.line != 0 {
                    out.write_all(format!("{DICT_SEPARATOR}\n").as_bytes())?;
                } else {
                    self.line += 1;
                }
                let message = if status.message.is_empty() {
                    "N/A".to_owned()
                } else {
                    esc(&go_quote(&status.message)).into_owned()
                };
                let state_name = enum_name(
                    state.map(|s| s.as_str_name()).ok_or(()),
                    status.state_change,
                );
                err.write_all(
                    format!(
                        "  TIMESTAMP: {time}\n      STATE: {state_name}\n      NODES: {names}\n    MESSAGE: {message}\n"
                    )
                    .as_bytes(),
                )
            }
            Format::Table | Format::Compact => {
                let prefix = format!("{time} [{}]", esc(&resp.node_name));
                let count = status.node_names.len();
                let msg = match state {
                    Some(NodeState::NodeConnected) => {
                        format!("{prefix}: Receiving flows from {count} nodes: {names}")
                    }
                    Some(NodeState::NodeUnavailable) => {
                        format!("{prefix}: {count} nodes are unavailable: {names}")
                    }
                    Some(NodeState::NodeGone) => {
                        format!("{prefix}: {count} nodes removed from cluster: {names}")
                    }
                    Some(NodeState::NodeError) => format!(
                        "{prefix}: Error {} on {count} nodes: {names}",
                        esc(&go_quote(&status.message))
                    ),
                    _ => format!(
                        "{prefix}: unknown node status event: state_change:{} node_names:[{}] message:{}",
                        status.state_change,
                        esc(&status.node_names.join(" ")),
                        esc(&go_quote(&status.message)),
                    ),
                };
                err.write_all(format!("{msg}\n").as_bytes())
            }
        }
    }

    fn table_header(&mut self) {
        if self.line != 0 {
            return;
        }
        let mut header = vec!["TIMESTAMP".to_owned()];
        if self.opts.node_name {
            header.push("NODE".to_owned());
        }
        header.extend(["SOURCE", "DESTINATION", "TYPE", "VERDICT", "SUMMARY"].map(String::from));
        self.rows.push(header);
    }

    fn paint(&self, color: Color, s: &str) -> String {
        if self.color {
            format!("\x1b[{}m{s}\x1b[0m", color as u8)
        } else {
            s.to_owned()
        }
    }

    /// Source and destination as Hubble shows them: `ns/pod:port`, `ns/service:port`,
    /// `name1,name2:port` or `ip:port` (the port left out when 0 or not TCP/UDP/SCTP); the
    /// MAC addresses for flows without IP.
    fn host_names(&self, flow: &Flow) -> (String, String) {
        let Some(ip) = &flow.ip else {
            return match &flow.ethernet {
                Some(eth) => (
                    self.paint(Color::Cyan, &esc(&eth.source)),
                    self.paint(Color::Cyan, &esc(&eth.destination)),
                ),
                None => (String::new(), String::new()),
            };
        };
        let (mut src_ns, src_pod) = flow
            .source
            .as_ref()
            .map_or(("", ""), |e| (e.namespace.as_str(), e.pod_name.as_str()));
        let (mut dst_ns, dst_pod) = flow
            .destination
            .as_ref()
            .map_or(("", ""), |e| (e.namespace.as_str(), e.pod_name.as_str()));
        // As in Hubble, a service's namespace replaces the endpoint's.
        let mut src_svc = "";
        if let Some(svc) = &flow.source_service {
            src_ns = &svc.namespace;
            src_svc = &svc.name;
        }
        let mut dst_svc = "";
        if let Some(svc) = &flow.destination_service {
            dst_ns = &svc.namespace;
            dst_svc = &svc.name;
        }
        let (src_port, dst_port) = ports(flow);
        let src = self.host(
            &ip.source,
            src_port,
            src_ns,
            src_pod,
            src_svc,
            &flow.source_names,
        );
        let dst = self.host(
            &ip.destination,
            dst_port,
            dst_ns,
            dst_pod,
            dst_svc,
            &flow.destination_names,
        );
        (self.paint(Color::Cyan, &src), self.paint(Color::Cyan, &dst))
    }

    fn host(
        &self,
        ip: &str,
        port: Option<u32>,
        ns: &str,
        pod: &str,
        svc: &str,
        names: &[String],
    ) -> String {
        let mut host = ip.to_owned();
        if self.opts.ip_translation {
            if !pod.is_empty() {
                host = join_path(ns, pod);
            } else if !svc.is_empty() {
                host = join_path(ns, svc);
            } else if !names.is_empty() {
                host = names.join(",");
            }
        }
        let host = esc(&host).into_owned();
        match port {
            Some(port) if port != 0 => {
                let port = self.paint(Color::Yellow, &port.to_string());
                if host.contains(':') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                }
            }
            _ => host,
        }
    }

    fn identity(&self, identity: u32) -> String {
        let text = match identity {
            0 => "(unknown)".to_owned(),
            id => match names::reserved_identity_name(id) {
                Some(name) => format!("({name})"),
                None => format!("(ID:{id})"),
            },
        };
        self.paint(Color::Magenta, &text)
    }

    /// The verdict column: the verdict's name, or for policy verdict events `ALLOWED`,
    /// `DENIED` or `AUDITED`, coloured green, red or yellow.
    fn verdict(&self, flow: &Flow) -> String {
        let policy_verdict = event_type(flow) == names::MESSAGE_TYPE_POLICY_VERDICT;
        let Ok(verdict) = Verdict::try_from(flow.verdict) else {
            return flow.verdict.to_string();
        };
        let name = verdict.as_str_name();
        match verdict {
            Verdict::Forwarded | Verdict::Redirected => {
                self.paint(Color::Green, if policy_verdict { "ALLOWED" } else { name })
            }
            Verdict::Dropped | Verdict::Error => {
                self.paint(Color::Red, if policy_verdict { "DENIED" } else { name })
            }
            Verdict::Audit => {
                self.paint(Color::Yellow, if policy_verdict { "AUDITED" } else { name })
            }
            Verdict::Traced | Verdict::Translated => self.paint(Color::Yellow, name),
            Verdict::Unknown => name.to_owned(),
        }
    }

    /// The summary column: [`summary`] plus the authentication type when there is one.
    fn summary(&self, flow: &Flow) -> String {
        let mut s = esc(&summary(flow)).into_owned();
        match AuthType::try_from(flow.auth_type) {
            Ok(AuthType::Disabled) => {}
            Ok(AuthType::TestAlwaysFail) => {
                s.push_str("; ");
                s.push_str(&self.paint(Color::Red, AuthType::TestAlwaysFail.as_str_name()));
            }
            Ok(auth) => {
                s.push_str("; ");
                s.push_str(&self.paint(Color::Green, auth.as_str_name()));
            }
            Err(_) => {
                s.push_str("; ");
                s.push_str(&self.paint(Color::Green, &flow.auth_type.to_string()));
            }
        }
        s
    }
}

/// The ANSI foreground colours Hubble uses.
#[derive(Clone, Copy)]
enum Color {
    Red = 31,
    Green = 32,
    Yellow = 33,
    Magenta = 35,
    Cyan = 36,
}

/// One protojson object and a newline, as Go's `json.Encoder` writes it.
fn write_json_line(w: &mut impl Write, resp: &GetFlowsResponse) -> io::Result<()> {
    let mut line =
        response_json(resp).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    line.push('\n');
    w.write_all(line.as_bytes())
}

/// A `GetFlowsResponse` as `hubble observe -o jsonpb` prints it: protojson with the proto
/// field names, fields in declaration order (`flow`, `node_status` or `lost_events`, then
/// `node_name` and `time`), timestamps in UTC with a `Z`, and `<`, `>` and `&` escaped as Go's
/// `json.Encoder` does.
pub fn response_json(resp: &GetFlowsResponse) -> serde_json::Result<String> {
    let mut fields = Vec::new();
    match &resp.response_types {
        Some(ResponseTypes::Flow(flow)) => fields.push(format!("\"flow\":{}", flow_json(flow)?)),
        Some(ResponseTypes::NodeStatus(status)) => {
            fields.push(format!(
                "\"node_status\":{}",
                serde_json::to_string(status)?
            ));
        }
        Some(ResponseTypes::LostEvents(lost)) => {
            fields.push(format!("\"lost_events\":{}", serde_json::to_string(lost)?));
        }
        None => {}
    }
    if !resp.node_name.is_empty() {
        fields.push(format!(
            "\"node_name\":{}",
            serde_json::to_string(&resp.node_name)?
        ));
    }
    if let Some(time) = &resp.time {
        fields.push(format!("\"time\":\"{}\"", protojson_timestamp(time)?));
    }
    Ok(escape_html(format!("{{{}}}", fields.join(","))))
}

/// A flow as protojson (see [`response_json`]).
pub fn flow_json(flow: &Flow) -> serde_json::Result<String> {
    let Some(time) = &flow.time else {
        return Ok(escape_html(serde_json::to_string(flow)?));
    };
    // `time` is the flow's first field. pbjson writes timestamps with `+00:00`; protojson
    // (and so Hubble) with `Z`: serialize the rest and put the time in front.
    let time = protojson_timestamp(time)?;
    let rest = serde_json::to_string(&Flow {
        time: None,
        ..flow.clone()
    })?;
    let rest = rest.strip_prefix('{').unwrap_or(&rest);
    let sep = if rest == "}" { "" } else { "," };
    Ok(escape_html(format!("{{\"time\":\"{time}\"{sep}{rest}")))
}

/// A timestamp as protojson writes it: RFC 3339 in UTC with `Z` and 0, 3, 6 or 9 fractional
/// digits.
fn protojson_timestamp(ts: &pbjson_types::Timestamp) -> serde_json::Result<String> {
    let t = u32::try_from(ts.nanos)
        .ok()
        .and_then(|nanos| DateTime::<Utc>::from_timestamp(ts.seconds, nanos))
        .ok_or_else(|| {
            <serde_json::Error as serde::ser::Error>::custom("timestamp out of range")
        })?;
    Ok(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Escapes `<`, `>`, `&`, U+2028 and U+2029 as Go's `encoding/json` does by default. In
/// JSON text these characters can only occur inside strings, so the whole text is safe to
/// rewrite.
fn escape_html(json: String) -> String {
    if !json.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The time of a flow as Hubble's default `StampMilli` layout (`Jan  2 15:04:05.000`) in
/// UTC, `N/A` when missing or out of protobuf's range.
pub fn fmt_timestamp(ts: Option<&pbjson_types::Timestamp>) -> String {
    // Timestamps are valid from 0001-01-01 to 9999-12-31, as protobuf defines them.
    const MIN_SECONDS: i64 = -62_135_596_800;
    const MAX_SECONDS: i64 = 253_402_300_799;
    let Some(ts) = ts.filter(|ts| (MIN_SECONDS..=MAX_SECONDS).contains(&ts.seconds)) else {
        return "N/A".to_owned();
    };
    u32::try_from(ts.nanos)
        .ok()
        .filter(|nanos| *nanos < 1_000_000_000)
        .and_then(|nanos| DateTime::<Utc>::from_timestamp(ts.seconds, nanos))
        .map_or_else(
            || "N/A".to_owned(),
            |t| t.format("%b %e %H:%M:%S%.3f").to_string(),
        )
}

fn event_type(flow: &Flow) -> i32 {
    flow.event_type.as_ref().map_or(0, |e| e.r#type)
}

fn ports(flow: &Flow) -> (Option<u32>, Option<u32>) {
    match flow.l4.as_ref().and_then(|l4| l4.protocol.as_ref()) {
        Some(layer4::Protocol::Tcp(t)) => (Some(t.source_port), Some(t.destination_port)),
        Some(layer4::Protocol::Udp(u)) => (Some(u.source_port), Some(u.destination_port)),
        Some(layer4::Protocol::Sctp(s)) => (Some(s.source_port), Some(s.destination_port)),
        _ => (None, None),
    }
}

/// The TYPE column of a flow, as Hubble names it: `http-request`, `dns-response proxy`,
/// `to-endpoint`, the drop reason (`Policy denied`), `policy-verdict:L3-L4 INGRESS`,
/// `pre-xlate-fwd`, ... and `UNKNOWN` otherwise.
pub fn flow_type(flow: &Flow) -> String {
    if let Some(l7) = &flow.l7 {
        let mut kind = enum_name(
            L7FlowType::try_from(l7.r#type).map(|t| t.as_str_name()),
            l7.r#type,
        )
        .to_lowercase();
        let protocol = match &l7.record {
            Some(layer7::Record::Http(_)) => "http",
            Some(layer7::Record::Dns(dns)) => {
                kind.push(' ');
                kind.push_str(&dns.observation_source);
                "dns"
            }
            Some(layer7::Record::Kafka(_)) => "kafka",
            None => "l7",
        };
        return format!("{protocol}-{kind}");
    }
    let sub_type = flow.event_type.as_ref().map_or(0, |e| e.sub_type);
    match event_type(flow) {
        names::MESSAGE_TYPE_TRACE => {
            // The datapath's sub type is a u8; Hubble reads it as one.
            let point = sub_type as u8;
            names::trace_sub_type_name(i32::from(point))
                .map_or_else(|| point.to_string(), str::to_owned)
        }
        names::MESSAGE_TYPE_DROP => {
            let code = sub_type as u8;
            match names::drop_reason_text(u32::from(code)) {
                "Unknown drop reason" => code.to_string(),
                text => text.to_owned(),
            }
        }
        names::MESSAGE_TYPE_POLICY_VERDICT => {
            let direction = enum_name(
                TrafficDirection::try_from(flow.traffic_direction).map(|d| d.as_str_name()),
                flow.traffic_direction,
            );
            format!(
                "policy-verdict:{} {direction}",
                names::policy_match_name(flow.policy_match_type)
            )
        }
        // This crate's flows carry no debug capture point: Hubble prints the unset one.
        names::MESSAGE_TYPE_CAPTURE => "DBG_CAPTURE_POINT_UNKNOWN".to_owned(),
        names::MESSAGE_TYPE_TRACE_SOCK => {
            match SocketTranslationPoint::try_from(flow.sock_xlate_point) {
                Ok(SocketTranslationPoint::SockXlatePointPostDirectionFwd) => {
                    "post-xlate-fwd".to_owned()
                }
                Ok(SocketTranslationPoint::SockXlatePointPostDirectionRev) => {
                    "post-xlate-rev".to_owned()
                }
                Ok(SocketTranslationPoint::SockXlatePointPreDirectionFwd) => {
                    "pre-xlate-fwd".to_owned()
                }
                Ok(SocketTranslationPoint::SockXlatePointPreDirectionRev) => {
                    "pre-xlate-rev".to_owned()
                }
                Ok(p) => p.as_str_name().to_owned(),
                Err(_) => flow.sock_xlate_point.to_string(),
            }
        }
        _ => "UNKNOWN".to_owned(),
    }
}

/// The summary Hubble's parsers attach to a flow, rebuilt from the flow: `TCP Flags: SYN,
/// ACK`, `UDP`, `ICMPv4 EchoRequest`, `HTTP/1.1 GET http://x/`, `DNS Query example.com. A`,
/// `Kafka request produce correlation id 7 topic 'orders'`, ...
pub fn summary(flow: &Flow) -> String {
    if let Some(l7) = &flow.l7 {
        return l7_summary(l7);
    }
    let protocol = flow.l4.as_ref().and_then(|l4| l4.protocol.as_ref());
    if event_type(flow) == names::MESSAGE_TYPE_TRACE_SOCK {
        return match protocol {
            Some(layer4::Protocol::Tcp(_)) => "TCP",
            Some(layer4::Protocol::Udp(_)) => "UDP",
            _ => "Unknown",
        }
        .to_owned();
    }
    match protocol {
        // Events that carry no TCP flags (policy verdicts) say only the protocol.
        Some(layer4::Protocol::Tcp(tcp)) if tcp.flags.is_none() => "TCP".to_owned(),
        Some(layer4::Protocol::Tcp(tcp)) => {
            let f = tcp.flags.unwrap_or_default();
            let flags: Vec<&str> = [
                (f.syn, "SYN"),
                (f.ack, "ACK"),
                (f.rst, "RST"),
                (f.fin, "FIN"),
                (f.psh, "PSH"),
                (f.urg, "URG"),
                (f.ece, "ECE"),
                (f.cwr, "CWR"),
                (f.ns, "NS"),
            ]
            .into_iter()
            .filter_map(|(set, name)| set.then_some(name))
            .collect();
            format!("TCP Flags: {}", flags.join(", "))
        }
        Some(layer4::Protocol::Udp(_)) => "UDP".to_owned(),
        Some(layer4::Protocol::Sctp(_)) => "SCTP".to_owned(),
        Some(layer4::Protocol::IcmPv4(icmp)) => {
            format!("ICMPv4 {}", icmpv4_type_code(icmp.r#type, icmp.code))
        }
        Some(layer4::Protocol::IcmPv6(icmp)) => {
            format!("ICMPv6 {}", icmpv6_type_code(icmp.r#type, icmp.code))
        }
        // The last layer decoded names the packet.
        None => match &flow.ip {
            Some(ip) if ip.ip_version == IpVersion::IPv6 as i32 => "IPv6".to_owned(),
            Some(_) => "IPv4".to_owned(),
            None if flow.ethernet.is_some() => "Ethernet".to_owned(),
            None => String::new(),
        },
    }
}

fn l7_summary(l7: &crate::proto::flow::Layer7) -> String {
    let kind = L7FlowType::try_from(l7.r#type).unwrap_or(L7FlowType::UnknownL7Type);
    match &l7.record {
        Some(layer7::Record::Http(http)) => match kind {
            L7FlowType::Request => format!("{} {} {}", http.protocol, http.method, http.url),
            L7FlowType::Response => format!(
                "{} {} {}ms ({} {})",
                http.protocol,
                http.code,
                l7.latency_ns / 1_000_000,
                http.method,
                http.url
            ),
            _ => String::new(),
        },
        Some(layer7::Record::Kafka(kafka)) => {
            if kind == L7FlowType::Request {
                format!(
                    "Kafka request {} correlation id {} topic '{}'",
                    kafka.api_key, kafka.correlation_id, kafka.topic
                )
            } else {
                format!(
                    "Kafka response {} correlation id {} topic '{}' return code {}",
                    kafka.api_key, kafka.correlation_id, kafka.topic, kafka.error_code
                )
            }
        }
        Some(layer7::Record::Dns(dns)) => {
            let qtypes = dns.qtypes.join(",");
            match kind {
                L7FlowType::Request => format!("DNS Query {} {qtypes}", dns.query),
                L7FlowType::Response => {
                    let answer = if dns.rcode != 0 {
                        format!("RCode: {}", dns_rcode_text(dns.rcode))
                    } else {
                        let mut parts = Vec::new();
                        if !dns.ips.is_empty() {
                            parts.push(go_quote(&dns.ips.join(",")));
                        }
                        if !dns.cnames.is_empty() {
                            parts.push(format!("CNAMEs: {}", go_quote(&dns.cnames.join(","))));
                        }
                        parts.join(" ")
                    };
                    let source = if dns.observation_source == "proxy" {
                        "Proxy"
                    } else {
                        "Query"
                    };
                    format!(
                        "DNS Answer {answer} TTL: {} ({source} {} {qtypes})",
                        dns.ttl, dns.query
                    )
                }
                _ => String::new(),
            }
        }
        None => String::new(),
    }
}

/// gopacket's name of a DNS response code.
fn dns_rcode_text(rcode: u32) -> &'static str {
    match rcode {
        0 => "No Error",
        1 => "Format Error",
        2 => "Server Failure",
        3 => "Non-Existent Domain",
        4 => "Not Implemented",
        5 => "Query Refused",
        6 => "Name Exists when it should not",
        7 => "RR Set Exists when it should not",
        8 => "RR Set that should exist does not",
        9 => "Server Not Authoritative for zone",
        10 => "Name not contained in zone",
        16 => "Bad OPT Version",
        17 => "Key not recognized",
        18 => "Signature out of time window",
        19 => "Bad TKEY Mode",
        20 => "Duplicate key name",
        21 => "Algorithm not supported",
        22 => "Bad Truncation",
        23 => "Bad/missing Server Cookie",
        _ => "Unknown",
    }
}

/// gopacket's `ICMPv4TypeCode` text: `EchoRequest`, `DestinationUnreachable(Port)`, ...
pub fn icmpv4_type_code(typ: u32, code: u32) -> String {
    const UNREACHABLE: &[&str] = &[
        "Net",
        "Host",
        "Protocol",
        "Port",
        "FragmentationNeeded",
        "SourceRoutingFailed",
        "NetUnknown",
        "HostUnknown",
        "SourceIsolated",
        "NetAdminProhibited",
        "HostAdminProhibited",
        "NetTOS",
        "HostTOS",
        "CommAdminProhibited",
        "HostPrecedence",
        "PrecedenceCutoff",
    ];
    let (name, codes): (&str, Option<&[&str]>) = match typ {
        0 => ("EchoReply", None),
        3 => ("DestinationUnreachable", Some(UNREACHABLE)),
        4 => ("SourceQuench", None),
        5 => ("Redirect", Some(&["Net", "Host", "TOS+Net", "TOS+Host"])),
        8 => ("EchoRequest", None),
        9 => ("RouterAdvertisement", None),
        10 => ("RouterSolicitation", None),
        11 => (
            "TimeExceeded",
            Some(&["TTLExceeded", "FragmentReassemblyTimeExceeded"]),
        ),
        12 => (
            "ParameterProblem",
            Some(&["PointerIndicatesError", "MissingOption", "BadLength"]),
        ),
        13 => ("TimestampRequest", None),
        14 => ("TimestampReply", None),
        15 => ("InfoRequest", None),
        16 => ("InfoReply", None),
        17 => ("AddressMaskRequest", None),
        18 => ("AddressMaskReply", None),
        _ => return format!("{}({})", typ as u8, code as u8),
    };
    icmp_text(name, codes, code as u8)
}

/// gopacket's `ICMPv6TypeCode` text: `EchoRequest`, `DestinationUnreachable(PortUnreachable)`,
/// `NeighborSolicitation`, ...
pub fn icmpv6_type_code(typ: u32, code: u32) -> String {
    let (name, codes): (&str, Option<&[&str]>) = match typ {
        1 => (
            "DestinationUnreachable",
            Some(&[
                "NoRouteToDst",
                "AdminProhibited",
                "BeyondScopeOfSrc",
                "AddressUnreachable",
                "PortUnreachable",
                "SrcAddressFailedPolicy",
                "RejectRouteToDst",
            ]),
        ),
        2 => ("PacketTooBig", None),
        3 => (
            "TimeExceeded",
            Some(&["HopLimitExceeded", "FragmentReassemblyTimeExceeded"]),
        ),
        4 => (
            "ParameterProblem",
            Some(&[
                "ErroneousHeaderField",
                "UnrecognizedNextHeader",
                "UnrecognizedIPv6Option",
            ]),
        ),
        128 => ("EchoRequest", None),
        129 => ("EchoReply", None),
        130 => ("MLDv1MulticastListenerQuery", None),
        131 => ("MLDv1MulticastListenerReport", None),
        132 => ("MLDv1MulticastListenerDone", None),
        133 => ("RouterSolicitation", None),
        134 => ("RouterAdvertisement", None),
        135 => ("NeighborSolicitation", None),
        136 => ("NeighborAdvertisement", None),
        137 => ("Redirect", None),
        143 => ("MLDv2MulticastListenerReport", None),
        _ => return format!("{}({})", typ as u8, code as u8),
    };
    icmp_text(name, codes, code as u8)
}

fn icmp_text(name: &str, codes: Option<&[&str]>, code: u8) -> String {
    match codes {
        None if code == 0 => name.to_owned(),
        Some(codes) if usize::from(code) < codes.len() => {
            format!("{name}({})", codes[usize::from(code)])
        }
        _ => format!("{name}(Code: {code})"),
    }
}

/// An enum's name, or its number when the value is not one of the enum's (as Go prints it).
fn enum_name<E>(name: Result<&'static str, E>, value: i32) -> String {
    name.map_or_else(|_| value.to_string(), str::to_owned)
}

/// `ns/name` as Go's `path.Join` makes it for Kubernetes names (no slash when `ns` is empty).
fn join_path(ns: &str, name: &str) -> String {
    if ns.is_empty() {
        name.to_owned()
    } else {
        format!("{ns}/{name}")
    }
}

/// Strings joined while they fit in `target` characters, then ` (and N more)`; at least one
/// is always shown.
fn join_with_cut_off(elems: &[String], sep: &str, target: usize) -> String {
    let mut len = 0;
    let mut end = elems.len();
    for (i, e) in elems.iter().enumerate() {
        len += e.len() + sep.len();
        if len > target && i > 0 {
            end = i;
            break;
        }
    }
    let joined = elems[..end].join(sep);
    match elems.len() - end {
        0 => joined,
        omitted => format!("{joined} (and {omitted} more)"),
    }
}

/// A string quoted as Go's `%q` quotes it.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", u32::from(c)))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Neutralises terminal control in text that came from the network, as Hubble does: ESC is
/// shown as `^[` and CR as `\r`, so a flow cannot recolour or rewrite the terminal.
fn esc(s: &str) -> Cow<'_, str> {
    if s.contains(['\x1b', '\r']) {
        Cow::Owned(s.replace('\x1b', "^[").replace('\r', "\\r"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Rows aligned as Go's `tabwriter` with Hubble's settings (minimum width 2, padding 3,
/// blanks): every cell but a row's last is padded to its column's widest cell plus 3.
fn align_columns(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![2usize; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            widths[i] = widths[i].max(cell.chars().count() + 3);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                out.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmp_texts_follow_gopacket() {
        assert_eq!(icmpv4_type_code(8, 0), "EchoRequest");
        assert_eq!(icmpv4_type_code(8, 1), "EchoRequest(Code: 1)");
        assert_eq!(icmpv4_type_code(3, 3), "DestinationUnreachable(Port)");
        assert_eq!(icmpv4_type_code(3, 99), "DestinationUnreachable(Code: 99)");
        assert_eq!(icmpv4_type_code(42, 1), "42(1)");
        assert_eq!(icmpv6_type_code(135, 0), "NeighborSolicitation");
        assert_eq!(
            icmpv6_type_code(1, 4),
            "DestinationUnreachable(PortUnreachable)"
        );
    }

    #[test]
    fn cut_off_keeps_one_name_and_counts_the_rest() {
        let names: Vec<String> = (0..10)
            .map(|i| format!("node-with-a-long-name-{i}"))
            .collect();
        assert_eq!(
            join_with_cut_off(&names, ", ", 50),
            "node-with-a-long-name-0, node-with-a-long-name-1 (and 8 more)"
        );
        assert_eq!(
            join_with_cut_off(&names[..1], ", ", 5),
            "node-with-a-long-name-0"
        );
    }

    #[test]
    fn go_quote_escapes_like_go() {
        assert_eq!(go_quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\x01\"");
    }

    #[test]
    fn timestamps_out_of_range_are_not_available() {
        let ts = |seconds, nanos| pbjson_types::Timestamp { seconds, nanos };
        assert_eq!(fmt_timestamp(Some(&ts(0, 0))), "Jan  1 00:00:00.000");
        assert_eq!(
            fmt_timestamp(Some(&ts(1_530_984_600, 123_000_000))),
            "Jul  7 17:30:00.123"
        );
        assert_eq!(fmt_timestamp(Some(&ts(-1, -1))), "N/A");
        assert_eq!(fmt_timestamp(Some(&ts(253_402_300_800, 0))), "N/A");
        assert_eq!(fmt_timestamp(None), "N/A");
    }
}

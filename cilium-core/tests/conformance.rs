//! Data-driven conformance tests against vectors taken from Cilium's own tests
//! (`pkg/labels/labels_test.go`, `pkg/labelsfilter/filter_test.go`, `pkg/identity`).
//!
//! The data is read from the copy under `tests/data/`, so the tests also run from a packaged
//! crate; `shared_data_has_not_drifted` checks that the copy still equals
//! `../shared/conformance/identity/` whenever that directory exists.
//!
//! Every top-level entry of every file is either checked here or listed in
//! `NOT_APPLICABLE` with the reason it does not concern this crate; a new entry fails
//! `every_entry_is_accounted_for` until it is handled.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use cilium_core::identity::{ClusterIdConfig, IdentityScope};
use cilium_core::labels::{LabelFilter, LabelSource, extended_key_from};
use cilium_core::{Label, LabelSet, NumericIdentity};
use serde_json::Value;

const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const SHARED_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/conformance/identity"
);
const FILES: [&str; 3] = [
    "labels_cases.json",
    "labelsfilter_cases.json",
    "identity_constants.json",
];

/// Entries that describe other crates' concerns, with the reason.
const NOT_APPLICABLE: [(&str, &str, &str); 4] = [
    (
        "identity_constants.json",
        "kvstore_keys",
        "kvstore layout of the allocator backend (cilium-identity)",
    ),
    (
        "identity_constants.json",
        "crd",
        "CiliumIdentity CRD of the allocator backend (cilium-identity)",
    ),
    (
        "identity_constants.json",
        "gc_defaults",
        "identity garbage collection settings (cilium-identity)",
    ),
    ("labels_cases.json", "_doc", "description only"),
];

fn load(name: &str) -> Value {
    let path = Path::new(DATA_DIR).join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn str_of(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn u32_of(v: &Value) -> u32 {
    let n = v
        .as_u64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"));
    u32::try_from(n).expect("fits u32")
}

/// The first `0x…` hexadecimal number in `text`.
fn hex_in(text: &str) -> u32 {
    let start = text
        .find("0x")
        .unwrap_or_else(|| panic!("no hex in {text:?}"))
        + 2;
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    u32::from_str_radix(&digits, 16).expect("hex number")
}

/// Every decimal number in `text`, in order.
fn numbers_in(text: &str) -> Vec<u32> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("number"))
        .collect()
}

#[test]
fn shared_data_has_not_drifted() {
    for name in FILES {
        let shared = Path::new(SHARED_DIR).join(name);
        if !shared.exists() {
            println!("skip drift check of {name}: {} is absent", shared.display());
            continue;
        }
        let copy = Path::new(DATA_DIR).join(name);
        assert_eq!(
            fs::read(&copy).expect("copy"),
            fs::read(&shared).expect("shared"),
            "tests/data/{name} differs from {}: copy the shared file again",
            shared.display()
        );
    }
}

#[test]
fn every_entry_is_accounted_for() {
    let handled: [(&str, &[&str]); 3] = [
        (
            "labels_cases.json",
            &[
                "SortedList",
                "ParseLabel",
                "ParseSelectLabel_default_source",
                "GetExtendedKeyFrom",
                "String",
                "FormatForKVStore",
                "Has_semantics",
                "label_sources",
            ],
        ),
        (
            "labelsfilter_cases.json",
            &[
                "_doc",
                "default_prefixes_in_order",
                "algorithm",
                "TestDefaultFilterLabels",
                "TestFilterLabelsDocExample",
            ],
        ),
        (
            "identity_constants.json",
            &[
                "reserved",
                "bpf_enum_identity_newest",
                "well_known_start",
                "well_known",
                "user_reserved_range",
                "minimal_numeric_identity",
                "scope_mask",
                "scope_global",
                "scope_local_cidr",
                "scope_remote_node",
                "local_identity_range",
                "bpf_cidr_identity_range_end_newest",
                "numeric_identity_bitlength",
                "cluster_id",
            ],
        ),
    ];
    for (file, keys) in handled {
        let data = load(file);
        let mut known: BTreeSet<&str> = keys.iter().copied().collect();
        for (f, key, reason) in NOT_APPLICABLE {
            if f == file {
                println!("{file}: {key} not checked here: {reason}");
                known.insert(key);
            }
        }
        for key in data.as_object().expect("object").keys() {
            assert!(
                known.contains(key.as_str()),
                "{file}: entry {key:?} is neither checked nor listed as not applicable"
            );
        }
    }
}

// ---------------------------------------------------------------- labels_cases.json

#[test]
fn sorted_list() {
    let data = load("labels_cases.json");
    let case = &data["SortedList"];
    let mut set = LabelSet::new();
    for (map_key, parts) in case["labels"].as_object().expect("labels") {
        let [key, value, source] = [0, 1, 2].map(|i| str_of(&parts[i]));
        let label = Label::new(key, value, source);
        assert_eq!(label.key(), map_key, "map key and label key differ");
        set.insert(label);
    }
    assert_eq!(set.sorted_list(), str_of(&case["expected"]));
    // FormatForKVStore: always '=' and a trailing ';'.
    let described = str_of(&data["FormatForKVStore"]);
    assert!(described.starts_with("source:key=value;"));
    assert_eq!(
        Label::from_parts("source", "key", "").format_for_kvstore(),
        "source:key=;"
    );
}

/// Cilium's test writes each expectation as `NewLabel(key, value, source)` and compares it
/// with `ParseLabel(input)`, so the vector's key goes through `NewLabel`'s own source split:
/// `["source::key1=value1", "source", "::key1", "value1"]` expects key `:key1`, not `::key1`.
/// Hence the assertion is `Label::parse(s) == Label::new(key, value, source)`.
#[test]
fn parse_label() {
    let data = load("labels_cases.json");
    let cases = data["ParseLabel"].as_array().expect("ParseLabel");
    assert_eq!(cases.len(), 19);
    for case in cases {
        let [input, source, key, value] = [0, 1, 2, 3].map(|i| str_of(&case[i]));
        assert_eq!(
            Label::parse(input),
            Label::new(key, value, source),
            "ParseLabel({input:?})"
        );
    }
    // ParseSelectLabel: the same, but a missing source is "any".
    let note = str_of(&data["ParseSelectLabel_default_source"]);
    assert!(note.contains("'key1=value1' -> any:key1=value1"), "{note}");
    assert_eq!(
        Label::parse_select("key1=value1").to_string(),
        "any:key1=value1"
    );
    for case in cases {
        let input = str_of(&case[0]);
        let (plain, select) = (Label::parse(input), Label::parse_select(input));
        assert_eq!(plain.key(), select.key(), "{input:?}");
        assert_eq!(plain.value(), select.value(), "{input:?}");
        if plain.source() == "unspec" {
            assert_eq!(select.source(), "any", "{input:?}");
        } else {
            assert_eq!(select.source(), plain.source(), "{input:?}");
        }
    }
}

#[test]
fn get_extended_key_from() {
    let data = load("labels_cases.json");
    for case in data["GetExtendedKeyFrom"].as_array().expect("cases") {
        let (input, expected) = (str_of(&case[0]), str_of(&case[1]));
        assert_eq!(
            extended_key_from(input),
            expected,
            "GetExtendedKeyFrom({input:?})"
        );
    }
}

#[test]
fn label_string() {
    let data = load("labels_cases.json");
    for case in data["String"].as_array().expect("cases") {
        let [source, key, value, expected] = [0, 1, 2, 3].map(|i| str_of(&case[i]));
        assert_eq!(Label::new(key, value, source).to_string(), expected);
        assert_eq!(Label::from_parts(source, key, value).to_string(), expected);
        assert_eq!(
            Label::parse(expected),
            Label::from_parts(source, key, value)
        );
    }
}

#[test]
fn has_semantics() {
    let data = load("labels_cases.json");
    for case in data["Has_semantics"].as_array().expect("cases") {
        let text = str_of(case);
        let (label, rest) = text.split_once(" Has ").expect("' Has '");
        let (selector, result) = rest.split_once(" -> ").expect("' -> '");
        let expected = match result.split_whitespace().next() {
            Some("true") => true,
            Some("false") => false,
            other => panic!("{text:?}: unexpected result {other:?}"),
        };
        let (label, selector) = (Label::parse(label), Label::parse(selector));
        assert_eq!(label.matches(&selector), expected, "{text}");
        let set: LabelSet = [label].into_iter().collect();
        assert_eq!(set.has(&selector), expected, "{text} (as a set)");
    }
}

#[test]
fn label_sources() {
    let data = load("labels_cases.json");
    let names: Vec<&str> = data["label_sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(str_of)
        .collect();
    let ours: Vec<&str> = LabelSource::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(ours, names);
}

// ---------------------------------------------------------- labelsfilter_cases.json

fn string_map(v: &Value) -> Vec<(&str, &str)> {
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| (k.as_str(), str_of(v)))
        .collect()
}

#[test]
fn default_prefix_list() {
    let data = load("labelsfilter_cases.json");
    let expected: Vec<&str> = data["default_prefixes_in_order"]
        .as_array()
        .expect("prefixes")
        .iter()
        // Strip annotations such as " (newer versions)".
        .map(|p| str_of(p).split(" (").next().expect("prefix"))
        .collect();
    let ours: Vec<String> = LabelFilter::default()
        .prefixes()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(ours, expected);
    assert!(!LabelFilter::default().is_allowlist());
    // The algorithm as described: longest include against shortest ignore.
    let algorithm = str_of(&data["algorithm"]);
    assert!(algorithm.contains("included=longest include match length"));
    assert!(algorithm.contains("ignored=shortest ignore match length"));
    let doc = str_of(&data["_doc"]);
    assert!(doc.contains("TestDefaultFilterLabels"), "{doc}");
}

#[test]
fn default_filter_labels() {
    let data = load("labelsfilter_cases.json");
    let case = &data["TestDefaultFilterLabels"];
    let mut input =
        LabelSet::from_key_values(string_map(&case["input_container_labels"]), "container");
    // The extra labels carry their source in the key ("k8s:id.lizards.k8s").
    for (key, value) in string_map(&case["extra"]) {
        input.insert(Label::new(key, value, ""));
    }
    let expected: LabelSet = case["expected_identity_labels"]
        .as_array()
        .expect("expected")
        .iter()
        .map(|s| Label::parse(str_of(s)))
        .collect();
    let filter = LabelFilter::default();
    assert_eq!(filter.filter(&input), expected);
    let (kept, info) = filter.split(&input);
    assert_eq!(kept, expected);
    assert_eq!(kept.len() + info.len(), input.len());
}

#[test]
fn filter_labels_doc_example() {
    let data = load("labelsfilter_cases.json");
    let case = &data["TestFilterLabelsDocExample"];
    let user: Vec<&str> = case["user_prefixes"]
        .as_array()
        .expect("prefixes")
        .iter()
        .map(str_of)
        .collect();
    let filter = LabelFilter::with_user_prefixes(&user).expect("user prefixes");
    assert!(filter.is_allowlist());

    let mut input = LabelSet::from_key_values(string_map(&case["input_k8s"]), "k8s");
    let kept = filter.filter(&input);
    assert_eq!(kept.len(), u32_of(&case["kept"]) as usize);
    assert_eq!(kept, input, "every k8s input label is identity-relevant");

    // "plus": further labels, each "<label> kept" or "<label> NOT kept (reason)".
    let mut expected = kept;
    for note in str_of(&case["plus"]).split(';').map(str::trim) {
        let (label_text, verdict) = note.split_once(' ').expect("label and verdict");
        let label = Label::parse(label_text);
        input.insert(label.clone());
        let should_keep = if verdict.starts_with("kept") {
            true
        } else if verdict.starts_with("NOT kept") {
            false
        } else {
            panic!("{note:?}: unexpected verdict")
        };
        if should_keep {
            expected.insert(label.clone());
        }
        assert_eq!(filter.is_identity_relevant(&label), should_keep, "{note}");
        assert_eq!(filter.filter(&input), expected, "after adding {label}");
    }
    assert_eq!(expected.len(), 6);
}

// ---------------------------------------------------------- identity_constants.json

#[test]
fn reserved_identities() {
    let data = load("identity_constants.json");
    let reserved = data["reserved"].as_object().expect("reserved");
    let mut seen = 0;
    for (name, id) in reserved {
        let id = NumericIdentity(u32_of(id));
        if name.contains(' ') {
            // "overlay-to-encrypt (ReservedEncryptedOverlay)": 11 is deliberately not
            // reserved here (the newest BPF reuses 11 and 12 as policy aggregates).
            assert_eq!(id, NumericIdentity(11), "{name}");
            assert!(!id.is_reserved());
            assert_eq!(id.reserved_name(), None);
            println!("{name} = {id}: deliberately not reserved by cilium-core");
            continue;
        }
        assert_eq!(id.reserved_name(), Some(name.as_str()), "{id}");
        assert_eq!(NumericIdentity::from_reserved_name(name), Some(id));
        assert_eq!(name.parse(), Ok(id));
        assert_eq!(id.to_string().parse(), Ok(id));
        assert!(id.is_reserved(), "{name}");
        assert_eq!(id.scope(), IdentityScope::Global);
        seen += 1;
    }
    assert_eq!(seen, 11);
    assert_eq!(NumericIdentity::reserved().count(), 11);
    let consts = [
        NumericIdentity::UNKNOWN,
        NumericIdentity::HOST,
        NumericIdentity::WORLD,
        NumericIdentity::UNMANAGED,
        NumericIdentity::HEALTH,
        NumericIdentity::INIT,
        NumericIdentity::REMOTE_NODE,
        NumericIdentity::KUBE_APISERVER,
        NumericIdentity::INGRESS,
        NumericIdentity::WORLD_IPV4,
        NumericIdentity::WORLD_IPV6,
    ];
    for (i, id) in consts.into_iter().enumerate() {
        assert_eq!(id.as_u32() as usize, i);
    }

    // The newest BPF enum: 0..=10 agree with the reserved table, 11 and 12 are aggregates.
    for (name, id) in data["bpf_enum_identity_newest"].as_object().expect("enum") {
        let id = NumericIdentity(u32_of(id));
        if name.starts_with("POLICY_CLUSTER") {
            assert!(!id.is_reserved(), "{name}");
        } else {
            assert!(id.is_reserved(), "{name}");
            assert!(id.reserved_name().is_some(), "{name}");
        }
    }
}

#[test]
fn well_known_and_ranges() {
    let data = load("identity_constants.json");
    let start = u32_of(&data["well_known_start"]);
    assert_eq!(NumericIdentity::WELL_KNOWN_FIRST.as_u32(), start);
    let mut first_set = Vec::new();
    for entry in data["well_known"].as_array().expect("well_known") {
        let text = str_of(entry);
        if text.starts_with('(') {
            // "(second set with namespace-meta label) 108..115": same names, shifted by 8.
            let bounds = numbers_in(text);
            let (lo, hi) = (bounds[0], bounds[1]);
            assert_eq!(hi - lo + 1, u32::try_from(first_set.len()).expect("small"));
            for (i, name) in first_set.iter().enumerate() {
                let id = NumericIdentity(lo + u32::try_from(i).expect("small"));
                assert_eq!(id.well_known_name(), Some(*name), "{id}");
            }
            assert_eq!(NumericIdentity::WELL_KNOWN_LAST.as_u32(), hi);
            continue;
        }
        let (name, id) = text.rsplit_once(' ').expect("name and id");
        let id = NumericIdentity(id.parse().expect("id"));
        assert_eq!(id.well_known_name(), Some(name), "{text}");
        assert!(id.is_well_known());
        first_set.push(name);
    }
    assert_eq!(NumericIdentity(99).well_known_name(), None);
    assert_eq!(NumericIdentity(116).well_known_name(), None);

    let user = data["user_reserved_range"].as_array().expect("range");
    let (lo, hi) = (u32_of(&user[0]), u32_of(&user[1]));
    assert_eq!(NumericIdentity::USER_RESERVED_FIRST.as_u32(), lo);
    assert_eq!(NumericIdentity::USER_RESERVED_LAST.as_u32(), hi);
    assert!(NumericIdentity(lo).is_user_reserved() && NumericIdentity(hi).is_user_reserved());
    assert!(!NumericIdentity(lo - 1).is_user_reserved());
    assert!(!NumericIdentity(hi + 1).is_user_reserved());
    assert_eq!(
        NumericIdentity::MINIMAL_GLOBAL.as_u32(),
        u32_of(&data["minimal_numeric_identity"])
    );
    assert_eq!(
        NumericIdentity::BIT_LENGTH,
        u32_of(&data["numeric_identity_bitlength"])
    );
}

#[test]
fn scopes() {
    let data = load("identity_constants.json");
    assert_eq!(
        NumericIdentity::SCOPE_MASK,
        hex_in(str_of(&data["scope_mask"]))
    );
    assert_eq!(IdentityScope::Global.bits(), u32_of(&data["scope_global"]));
    assert_eq!(
        IdentityScope::Local.bits(),
        hex_in(str_of(&data["scope_local_cidr"]))
    );
    assert_eq!(
        IdentityScope::RemoteNode.bits(),
        hex_in(str_of(&data["scope_remote_node"]))
    );
    // The JSON writes them as shifts too: "1<<24 (…)", "2<<24 (…)".
    for (key, scope) in [
        ("scope_local_cidr", IdentityScope::Local),
        ("scope_remote_node", IdentityScope::RemoteNode),
    ] {
        let n = numbers_in(str_of(&data[key]));
        assert_eq!(n[0] << n[1], scope.bits(), "{key}");
    }

    let range = data["local_identity_range"].as_array().expect("range");
    let (lo, hi) = (
        NumericIdentity(hex_in(str_of(&range[0]))),
        NumericIdentity(hex_in(str_of(&range[1]))),
    );
    assert_eq!(ClusterIdConfig::local_range(), lo..=hi);
    assert_eq!(IdentityScope::Local.allocation_range(), Some(lo..=hi));
    assert!(lo.is_local() && hi.is_local());
    // 0x01000000 has the local scope byte but is never handed out.
    let below = NumericIdentity(lo.as_u32() - 1);
    assert!(below.is_local() && !ClusterIdConfig::local_range().contains(&below));
    assert!(NumericIdentity(lo.as_u32() - 2).is_global());
    assert!(!NumericIdentity(hi.as_u32() + 1).is_local());
    assert_eq!(
        NumericIdentity(hi.as_u32() + 1).scope(),
        IdentityScope::RemoteNode
    );

    // "(1<<24)+(1<<16)-1": the newest BPF ends CIDR identities early; that end lies inside
    // our local range, so identities allocated from its start are valid either way.
    let n = numbers_in(str_of(&data["bpf_cidr_identity_range_end_newest"]));
    let end = NumericIdentity((n[0] << n[1]) + (n[2] << n[3]) - n[4]);
    assert_eq!(end, NumericIdentity(0x0100_FFFF));
    assert!(ClusterIdConfig::local_range().contains(&end));
}

#[test]
fn cluster_ranges() {
    let data = load("identity_constants.json");
    let cluster = &data["cluster_id"];
    let default_max = u32_of(&cluster["max_connected_clusters_default"]);
    let alt_max = u32_of(&cluster["alt"]);
    assert_eq!(
        ClusterIdConfig::default().max_connected_clusters(),
        default_max
    );

    // "log2(ClusterIDMax+1) = 8 (or 9)" and "24-clusterIDLen = 16 (or 15)": the last two
    // numbers of each are the values for the default and the alternative configuration.
    let tail = |key: &str| {
        let n = numbers_in(str_of(&cluster[key]));
        (n[n.len() - 2], n[n.len() - 1])
    };
    let (len_default, len_alt) = tail("clusterIDLen");
    let (shift_default, shift_alt) = tail("clusterIDShift");

    for (max, len, shift) in [
        (default_max, len_default, shift_default),
        (alt_max, len_alt, shift_alt),
    ] {
        let cfg = ClusterIdConfig::new(max).expect("supported");
        assert_eq!(cfg.max_connected_clusters(), max);
        assert_eq!(cfg.cluster_id_len(), len, "max {max}");
        assert_eq!(cfg.shift(), shift, "max {max}");
        assert_eq!(shift, NumericIdentity::BIT_LENGTH - len);
        assert_eq!(1u32 << len, max + 1);
        // The formulas of the JSON ("min_alloc", "max_alloc"), evaluated independently.
        assert!(str_of(&cluster["min_alloc"]).contains("clusterID==0 ? 256 : clusterID<<shift"));
        assert!(str_of(&cluster["max_alloc"]).contains("((clusterID+1)<<shift)-1"));
        let min = |cid: u32| if cid == 0 { 256 } else { cid << shift };
        let max_id = |cid: u32| ((cid + 1) << shift) - 1;
        for cid in [0, 1, 2, 42, 127, 128, 254, 255, max] {
            if cid > max {
                continue;
            }
            let range = cfg.identity_range(cid).expect("in range");
            assert_eq!(range.start().as_u32(), min(cid), "max {max} cluster {cid}");
            assert_eq!(range.end().as_u32(), max_id(cid), "max {max} cluster {cid}");
            assert_eq!(range.start().cluster_id(&cfg), cid);
            assert_eq!(range.end().cluster_id(&cfg), cid);
            assert_eq!(range.end().scope(), IdentityScope::Global);
        }
        assert!(cfg.identity_range(max + 1).is_err());
        assert_eq!(cfg.max_identity(max).expect("last").as_u32(), 0x00FF_FFFF);
    }
    assert!(ClusterIdConfig::new(default_max + 1).is_err());

    let cfg = ClusterIdConfig::default();
    let examples = &cluster["examples"];
    for (name, value) in examples.as_object().expect("examples") {
        if let Some(pair) = value.as_array() {
            let cid: u32 = name
                .strip_prefix("cluster")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{name}"));
            let range = cfg.identity_range(cid).expect("in range");
            assert_eq!(
                (range.start().as_u32(), range.end().as_u32()),
                (u32_of(&pair[0]), u32_of(&pair[1])),
                "{name}"
            );
        } else {
            // "cluster42_identity_0x2A0000_clusterID": 42
            let id = NumericIdentity(hex_in(name));
            assert_eq!(id.cluster_id(&cfg), u32_of(value), "{name}");
        }
    }
}

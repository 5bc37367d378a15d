//! Scenarios compiled into the binary, so `tradesim run` works with no files at hand.

/// (name, TOML text) of every embedded scenario; the first is the default.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("us_china_2025", include_str!("../../configs/us_china_2025.toml")),
    ("us_china_no_truce", include_str!("../../configs/us_china_no_truce.toml")),
    ("endogenous_retaliation", include_str!("../../configs/endogenous_retaliation.toml")),
    ("small", include_str!("../../configs/small.toml")),
];

/// The text of an embedded scenario.
pub fn embedded(name: &str) -> Option<&'static str> {
    EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub fn embedded_names() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(n, _)| *n).collect()
}

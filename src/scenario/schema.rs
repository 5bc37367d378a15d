//! The shape of a scenario file: the keys each table takes, which keys hold arrays of
//! tables, and which tables take the scenario's own names as keys (`inputs`, `shares`).
//!
//! The validator names the accepted keys from it in its unknown-field errors, and the
//! sweep layer checks parameter paths (`behaviour.exporter_absorption`, `rules[0].cap`)
//! against it before anything runs, so both accept exactly the same keys.

/// What sits at a path of a scenario file (array indices left out: `events`, not `events[2]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// A table with these keys.
    Table(&'static [&'static str]),
    /// An array of tables (`[[events]]`), each with these keys.
    Tables(&'static [&'static str]),
    /// A table whose keys are names from the scenario (sectors, regions), such as `inputs`.
    Names,
    /// A value: a number, string, date, boolean or array of them.
    Value,
}

const TOP: &[&str] = &[
    "name",
    "description",
    "start",
    "end",
    "seed",
    "regions",
    "sectors",
    "recipes",
    "capacity",
    "shipping",
    "sourcing",
    "behaviour",
    "tariffs",
    "events",
    "rules",
];
const REGION: &[&str] = &[
    "name",
    "gdp",
    "households",
    "producers_per_sector",
    "retailers_per_sector",
    "productivity",
    "exporter_absorption",
    "recycling",
    "recycling_share",
    "aid_sector",
    "trade_balance",
];
const SECTOR: &[&str] = &["name", "tradable", "budget_share", "markup", "inputs", "labour", "capacity_headroom"];
const RECIPE: &[&str] = &["region", "sector", "inputs", "labour", "markup"];
const CAPACITY: &[&str] = &["region", "sector", "multiplier"];
const SHIPPING: &[&str] = &["domestic_transport", "default_lead_weeks", "default_transport", "routes"];
const ROUTE: &[&str] = &["from", "to", "lead_weeks", "transport", "both_ways"];
const SOURCING: &[&str] = &["home_share", "balance", "shares"];
const SOURCING_SHARE: &[&str] = &["importer", "sector", "shares"];
const TARIFF: &[&str] = &["importer", "exporter", "sectors", "rate"];
const EVENT: &[&str] = &[
    "name",
    "kind",
    "government",
    "partner",
    "sectors",
    "set",
    "add",
    "share",
    "announce",
    "effective",
    "grace_until",
    "source",
];
const RULE: &[&str] = &[
    "name",
    "kind",
    "government",
    "partner",
    "sectors",
    "active_from",
    "active_until",
    "lag_weeks",
    "match",
    "cap",
    "threshold",
    "window_weeks",
    "exempt_rate",
    "trade_drop",
    "gdp_loss",
    "baseline_weeks",
    "rate",
];

/// The keys of `[behaviour]`.
pub const BEHAVIOUR: &[&str] = &[
    "target_employment",
    "consume_income",
    "consume_wealth",
    "income_smoothing",
    "sector_price_elasticity",
    "retailer_choice_elasticity",
    "known_retailers",
    "retail_markup",
    "retail_labour_share",
    "retail_reprice_prob",
    "retail_reprice_down_prob",
    "retail_cover_weeks",
    "exporter_absorption",
    "producer_price_adjust",
    "scarcity_pricing",
    "output_cover_weeks",
    "input_cover_weeks",
    "forecast_smoothing",
    "inventory_adjust",
    "suppliers_per_input",
    "source_elasticity",
    "search_prob",
    "switch_threshold",
    "frontload_weeks",
    "frontload_saturation",
    "hiring_rate",
    "firing_rate",
    "job_match_efficiency",
    "dividend_rate",
    "cash_buffer_weeks",
    "capacity_headroom",
    "wage_indexation",
    "capacity_adjust",
    "source_adjust",
    "wage_flexibility",
];

/// What sits at `shape`, a path with its array indices left out (`shipping.routes`).
pub fn node(shape: &str) -> Node {
    match shape {
        "" => Node::Table(TOP),
        "regions" => Node::Tables(REGION),
        "sectors" => Node::Tables(SECTOR),
        "recipes" => Node::Tables(RECIPE),
        "capacity" => Node::Tables(CAPACITY),
        "shipping" => Node::Table(SHIPPING),
        "shipping.routes" => Node::Tables(ROUTE),
        "sourcing" => Node::Table(SOURCING),
        "sourcing.shares" => Node::Tables(SOURCING_SHARE),
        "behaviour" => Node::Table(BEHAVIOUR),
        "tariffs" => Node::Tables(TARIFF),
        "events" => Node::Tables(EVENT),
        "rules" => Node::Tables(RULE),
        "sectors.inputs" | "recipes.inputs" | "sourcing.shares.shares" => Node::Names,
        _ => Node::Value,
    }
}

/// What a value of the scenario file holds, for the sweep layer to type a range by its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number (agent counts, weeks, the seed).
    Integer,
    /// A number (rates, shares, elasticities, GDP, …).
    Number,
    Date,
    /// A string, boolean or list.
    Other,
}

/// The kind of the value at `shape` (a path with its indices left out: `rules.lag_weeks`).
pub fn kind(shape: &str) -> Kind {
    let (parent, key) = shape.rsplit_once('.').unwrap_or(("", shape));
    if node(parent) == Node::Names {
        return Kind::Number;
    }
    match (parent, key) {
        ("", "seed") => Kind::Integer,
        ("", "start" | "end") => Kind::Date,
        ("regions", "households" | "producers_per_sector" | "retailers_per_sector") => Kind::Integer,
        ("regions", "gdp" | "productivity" | "exporter_absorption" | "recycling_share" | "trade_balance") => {
            Kind::Number
        }
        ("sectors", "budget_share" | "markup" | "labour" | "capacity_headroom") => Kind::Number,
        ("recipes", "labour" | "markup") => Kind::Number,
        ("capacity", "multiplier") => Kind::Number,
        ("shipping", "default_lead_weeks") | ("shipping.routes", "lead_weeks") => Kind::Integer,
        ("shipping", "domestic_transport" | "default_transport") | ("shipping.routes", "transport") => Kind::Number,
        ("sourcing", "home_share") => Kind::Number,
        ("behaviour", "known_retailers" | "suppliers_per_input") => Kind::Integer,
        ("behaviour", _) => Kind::Number,
        ("tariffs", "rate") => Kind::Number,
        ("events", "set" | "add" | "share") => Kind::Number,
        ("events", "announce" | "effective" | "grace_until") | ("rules", "active_from" | "active_until") => Kind::Date,
        ("rules", "lag_weeks" | "window_weeks" | "baseline_weeks") => Kind::Integer,
        ("rules", "match" | "cap" | "threshold" | "exempt_rate" | "trade_drop" | "gdp_loss" | "rate") => Kind::Number,
        _ => Kind::Other,
    }
}

/// `events[2].sectors[0]` → `events.sectors`.
pub fn shape_of(path: &str) -> String {
    let mut shape = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => shape.push(c),
            _ => {}
        }
    }
    shape
}

/// The keys accepted in the table at `parent` (indices allowed), for unknown-field errors.
pub fn accepted_fields(parent: &str) -> Vec<&'static str> {
    match node(&shape_of(parent)) {
        Node::Table(keys) | Node::Tables(keys) => keys.to_vec(),
        Node::Names | Node::Value => vec!["(no keys: this table takes names from the scenario)"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_nodes() {
        assert_eq!(shape_of("events[2].sectors[0]"), "events.sectors");
        assert_eq!(node(&shape_of("sourcing.shares[3]")), Node::Tables(SOURCING_SHARE));
        assert_eq!(node("sectors.inputs"), Node::Names);
        assert_eq!(node("behaviour.hiring_rate"), Node::Value);
        assert!(accepted_fields("rules[1]").contains(&"cap"));
        assert_eq!(kind("behaviour.exporter_absorption"), Kind::Number);
        assert_eq!(kind("behaviour.known_retailers"), Kind::Integer);
        assert_eq!(kind("events.effective"), Kind::Date);
        assert_eq!(kind("sectors.inputs.SERV"), Kind::Number);
        assert_eq!(kind("events.sectors"), Kind::Other);
    }

    #[test]
    fn every_accepted_value_key_has_a_kind_the_config_agrees_with() {
        // The numeric keys of the config types, by table: a key added there and not here
        // would be typed Other, and a sweep range over it refused by the validator's types.
        for (table, keys) in
            [("regions", REGION), ("sectors", SECTOR), ("behaviour", BEHAVIOUR), ("rules", RULE), ("events", EVENT)]
        {
            for key in keys {
                let k = kind(&format!("{table}.{key}"));
                let textual = [
                    "name",
                    "kind",
                    "government",
                    "partner",
                    "sectors",
                    "source",
                    "recycling",
                    "aid_sector",
                    "tradable",
                    "inputs",
                ];
                assert_eq!(k == Kind::Other, textual.contains(key), "{table}.{key} is {k:?}");
            }
        }
    }
}

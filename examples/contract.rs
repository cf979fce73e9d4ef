//! Prints the code's side of the deployment contract as JSON, for
//! `ci/template_check.py` to compare with `template.yaml`.
use rust_aws::config::contract::{self, table};

fn main() {
    let routes: Vec<_> = rust_aws::app::served_routes()
        .map(|(m, p)| serde_json::json!({"method": m, "path": p}))
        .collect();
    let vars: Vec<_> = contract::ENV_VARS
        .iter()
        .map(|v| {
            serde_json::json!({"name": v.name, "required_on_lambda": v.required_on_lambda, "local_only": v.local_only})
        })
        .collect();
    let indexes: Vec<_> = table::INDEXES
        .iter()
        .map(|(n, h, r)| serde_json::json!({"name": n, "hash": h, "range": r}))
        .collect();
    let out = serde_json::json!({
        "routes": routes,
        "env": vars,
        "secrets": contract::SECRET_VARS,
        "table": {"pk": table::PK, "sk": table::SK, "ttl": table::TTL, "indexes": indexes},
        // The function timeout the local request budget stands in for.
        "function_timeout_s": rust_aws::web::deadline::FUNCTION_TIMEOUT.as_secs(),
        "metrics": {
            "namespace": contract::metrics::NAMESPACE,
            "mail_undelivered": contract::metrics::MAIL_UNDELIVERED,
            "mail_parked": contract::metrics::MAIL_PARKED,
            "dimension": contract::metrics::DIMENSION,
        },
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&out).expect("JSON of constants")
    );
}

//! The registry of storage format upgrades.
//!
//! `STEPS[n]` turns a record body of format version `n` into version `n + 1`,
//! as JSON, given the record's table (`prd`, `ord`, `cus`, … — see
//! `store.rs`). Reading an old record runs every step from its version to
//! [`CURRENT`]; [`Core::migrate`](crate::Core::migrate) runs the same steps
//! and writes the result.
//!
//! To change a record's stored shape: add a step here that rewrites that
//! table's records (leave other tables as they are), change its stored type
//! in `super::stored` to the new shape, and add a fixture written by the
//! last release of the previous version (see `tests/fixtures/README.md`).
//! Steps are never edited once released: stores in the field depend on them.

use serde_json::Value;

/// One upgrade step: a body of table `table` from one version to the next.
pub type Step = fn(table: &str, body: Value) -> Result<Value, String>;

/// Every step, oldest first.
pub const STEPS: &[Step] = &[v0_to_v1];

/// The format version every record is written in.
pub const CURRENT: u32 = STEPS.len() as u32;

/// Version 1 only adds the version prefix: the stored types were cut from
/// the shapes version 0 wrote, so every body is already a valid version 1.
fn v0_to_v1(_table: &str, body: Value) -> Result<Value, String> {
    Ok(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What a second version would look like: a field renamed in one table.
    fn v1_to_v2(table: &str, mut body: Value) -> Result<Value, String> {
        if table == "ord"
            && let Some(obj) = body.as_object_mut()
        {
            let note = obj.remove("note").ok_or("an order without `note`")?;
            obj.insert("customer_note".into(), note);
        }
        Ok(body)
    }

    #[test]
    fn steps_run_in_order_and_only_touch_their_table() {
        let steps: &[Step] = &[v0_to_v1, v1_to_v2];
        let run =
            |table: &str, from: usize, body: Value| steps.iter().skip(from).try_fold(body, |b, step| step(table, b));
        assert_eq!(run("ord", 0, json!({"note": "hi"})), Ok(json!({"customer_note": "hi"})));
        assert_eq!(run("ord", 1, json!({"note": "hi"})), Ok(json!({"customer_note": "hi"})));
        assert_eq!(run("prd", 0, json!({"note": "hi"})), Ok(json!({"note": "hi"})));
        assert!(run("ord", 0, json!({})).is_err(), "a step that cannot apply says so");
    }
}

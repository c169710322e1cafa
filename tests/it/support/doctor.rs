//! `doctor --json`'s document as a script reads it: the library's report with each `fix`
//! worded as the command to run (`"fix": "voxctl fetch --variant cpu"`). Unknown fields are
//! refused, so a field the command adds or renames fails every test that reads one.

use serde::{Deserialize, Serialize};
use voxctl::doctor::Level;
use voxctl::gpu::Hardware;

/// The whole document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub ok: bool,
    pub hardware: Hardware,
    pub findings: Vec<Finding>,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub check: String,
    pub subject: String,
    pub level: Level,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

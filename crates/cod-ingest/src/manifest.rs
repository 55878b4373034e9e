use std::collections::HashSet;
use std::path::{Path, PathBuf};

use cod_artifact::{Model, Role};
use serde::{Deserialize, Serialize};

/// A models manifest as written: one `[[model]]` table per model.
///
/// ```toml
/// [[model]]
/// name = "122M"
/// params = 122e6          # N, parameters
/// tokens = 54.5e9         # D, training tokens; optional when `flops` is given
/// flops = 3.99e19         # optional; else 6·N·D
/// role = "ladder"         # ladder (default), target or anchor
/// ```
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    #[serde(default)]
    model: Vec<ModelEntry>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ModelEntry {
    name: String,
    params: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tokens: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flops: Option<f64>,
    #[serde(default = "default_role")]
    role: Role,
}

fn default_role() -> Role {
    Role::Ladder
}

/// Why a manifest was rejected; the message names the file and the field.
#[derive(Debug, thiserror::Error)]
#[error("`{path}`: {message}")]
pub struct ManifestError {
    pub path: PathBuf,
    pub message: String,
}

/// Reads and validates a models manifest.
pub fn read_manifest(path: &Path) -> Result<Vec<Model>, ManifestError> {
    let fail = |message: String| ManifestError {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|err| fail(err.to_string()))?;
    let file: ManifestFile = toml::from_str(&text).map_err(|err| {
        fail(format!(
            "invalid manifest: {}",
            cod_pipeline::clip(err.to_string().trim_end())
        ))
    })?;
    if file.model.is_empty() {
        return Err(fail(
            "no models: expected `[[model]]` tables with `name`, `params`, `tokens`".to_owned(),
        ));
    }
    let mut seen = HashSet::new();
    let mut models = Vec::with_capacity(file.model.len());
    for (i, entry) in file.model.into_iter().enumerate() {
        let at = format!("model {} (`{}`)", i + 1, entry.name);
        if entry.name.trim().is_empty() {
            return Err(fail(format!("model {}: `name` is empty", i + 1)));
        }
        if !seen.insert(entry.name.clone()) {
            return Err(fail(format!("{at}: `name` repeats an earlier model")));
        }
        for (field, value) in [
            ("params", Some(entry.params)),
            ("tokens", entry.tokens),
            ("flops", entry.flops),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0)
            {
                return Err(fail(format!(
                    "{at}: `{field}` must be a positive number, found {v}"
                )));
            }
        }
        // With FLOPs only, D is what 6·N·D = C makes it: the per-item methods use C alone, and
        // the ladder's step 1 needs some D.
        let tokens = match (entry.tokens, entry.flops) {
            (Some(tokens), _) => tokens,
            (None, Some(flops)) => flops / (6.0 * entry.params),
            (None, None) => {
                return Err(fail(format!(
                    "{at}: no `tokens`; give the training tokens D, or the compute `flops`"
                )));
            }
        };
        models.push(Model::new(
            &entry.name,
            entry.params,
            tokens,
            entry.flops,
            entry.role,
        ));
    }
    let ladder = models.iter().filter(|m| m.role == Role::Ladder).count();
    if ladder < 2 {
        return Err(fail(format!(
            "expected at least 2 models with role `ladder` to fit a trend, found {ladder}"
        )));
    }
    Ok(models)
}

/// Writes a manifest that [`read_manifest`] reads back to the same models.
pub fn write_manifest(path: &Path, models: &[Model]) -> std::io::Result<()> {
    let file = ManifestFile {
        model: models
            .iter()
            .map(|m| ModelEntry {
                name: m.name.clone(),
                params: m.params,
                tokens: Some(m.tokens),
                flops: m.flops_given.then_some(m.flops),
                role: m.role,
            })
            .collect(),
    };
    let text = toml::to_string(&file).map_err(std::io::Error::other)?;
    cod_artifact::write_atomically(path, |f| std::io::Write::write_all(f, text.as_bytes()))
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // values are copied or computed the same way: exact equality is the point
mod tests {
    use super::*;

    fn check(text: &str, expected: &str) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.toml");
        std::fs::write(&path, text).unwrap();
        let err = read_manifest(&path).unwrap_err();
        let shown = err
            .to_string()
            .replace(&dir.path().display().to_string(), "DIR");
        assert_eq!(shown, expected);
    }

    const TWO: &str = "[[model]]\nname = \"a\"\nparams = 1e6\ntokens = 2e7\n\
                       [[model]]\nname = \"b\"\nparams = 2e6\ntokens = 4e7\n";

    #[test]
    fn reads_and_derives_flops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.toml");
        std::fs::write(&path, format!("{TWO}[[model]]\nname = \"t\"\nparams = 1e9\ntokens = 1e10\nflops = 5e19\nrole = \"target\"\n")).unwrap();
        let models = read_manifest(&path).unwrap();
        assert_eq!(models.len(), 3);
        assert_eq!(models[0].flops, 6.0 * 1e6 * 2e7);
        assert!(!models[0].flops_given);
        assert_eq!(models[2].flops, 5e19);
        assert_eq!(models[2].role, Role::Target);
        let again = dir.path().join("again.toml");
        write_manifest(&again, &models).unwrap();
        assert_eq!(read_manifest(&again).unwrap(), models);
    }

    #[test]
    fn names_the_bad_field() {
        check(
            &TWO.replace("params = 2e6", "params = -2e6"),
            "`DIR/models.toml`: model 2 (`b`): `params` must be a positive number, found -2000000",
        );
        check(
            &TWO.replace("name = \"b\"", "name = \"a\""),
            "`DIR/models.toml`: model 2 (`a`): `name` repeats an earlier model",
        );
        check(
            "[[model]]\nname = \"a\"\nparams = 1e6\ntokens = 2e7\n",
            "`DIR/models.toml`: expected at least 2 models with role `ladder` to fit a trend, found 1",
        );
        check(
            "",
            "`DIR/models.toml`: no models: expected `[[model]]` tables with `name`, `params`, `tokens`",
        );
    }

    #[test]
    fn unknown_and_missing_keys_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.toml");
        std::fs::write(
            &path,
            TWO.replace("tokens = 4e7", "tokens = 4e7\nparms = 3"),
        )
        .unwrap();
        let msg = read_manifest(&path).unwrap_err().to_string();
        assert!(msg.contains("unknown field `parms`"), "{msg}");
        assert!(msg.contains("line 9"), "{msg}");
        std::fs::write(&path, TWO.replace("tokens = 4e7\n", "")).unwrap();
        let msg = read_manifest(&path).unwrap_err().to_string();
        assert!(
            msg.contains(
                "model 2 (`b`): no `tokens`; give the training tokens D, or the compute `flops`"
            ),
            "{msg}"
        );
        std::fs::write(
            &path,
            TWO.replace("name = \"b\"", "name = \"b\"\nrole = \"big\""),
        )
        .unwrap();
        let msg = read_manifest(&path).unwrap_err().to_string();
        assert!(msg.contains("unknown variant `big`"), "{msg}");
    }
}

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Artifact, ArtifactError, ArtifactKind};

/// A rendered report: the output of the `report` and `ladder-report` stages. The artifact holds
/// every file of the report; `cod pipeline run` writes them into the output directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub title: String,
    /// `report.md`: the summary tables, and links to the PNG plots when there are any.
    pub markdown: String,
    /// `report.html`: self-contained (inline SVG and CSS, no scripts, no network).
    pub html: String,
    /// Other files, by path relative to the report (e.g. `plots/mmlu-clusters.png`).
    pub files: Vec<(String, Vec<u8>)>,
}

/// The name of the report's Markdown file.
pub const REPORT_MD: &str = "report.md";
/// The name of the report's HTML file.
pub const REPORT_HTML: &str = "report.html";

impl Report {
    /// Every file of the report, by relative path: `report.md`, `report.html`, then `files`.
    #[must_use]
    pub fn output_files(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = vec![
            (REPORT_MD.to_owned(), self.markdown.clone().into_bytes()),
            (REPORT_HTML.to_owned(), self.html.clone().into_bytes()),
        ];
        out.extend(self.files.iter().cloned());
        out
    }
}

impl Report {
    /// The files besides `report.md` and `report.html`, as a phrase: ` and 3 other files`.
    fn others(&self) -> String {
        match self.files.len() {
            0 => String::new(),
            1 => " and 1 other file".to_owned(),
            n => format!(" and {n} other files"),
        }
    }

    /// The one-line summary of a report whose files were written into `dir`: where to find them.
    #[must_use]
    pub fn summary_in(&self, dir: &Path) -> String {
        format!(
            "report “{}”: {}, {}{}\n",
            self.title,
            dir.join(REPORT_HTML).display(),
            dir.join(REPORT_MD).display(),
            self.others()
        )
    }
}

/// The directory a report's other files (plots) go to, so they can never collide with the files
/// other stages write beside their artifacts (`predictions.json`, `backtest.md`, …).
pub const REPORT_FILES_DIR: &str = "plots";

impl Artifact for Report {
    const KIND: ArtifactKind = ArtifactKind::Report;
    const SCHEMA_VERSION: u32 = 1;

    fn validate(&self) -> Result<(), String> {
        for (name, _) in &self.files {
            let path = checked_relative(name)?;
            if !path.starts_with(REPORT_FILES_DIR) || path == Path::new(REPORT_FILES_DIR) {
                return Err(format!(
                    "the report's file `{name}` is not under `{REPORT_FILES_DIR}/`"
                ));
            }
        }
        Ok(())
    }

    fn summary(&self) -> String {
        format!(
            "report “{}”: {REPORT_HTML}, {REPORT_MD}{}, which `cod pipeline run` writes beside \
             this artifact\n",
            self.title,
            self.others()
        )
    }
}

/// Checks that `name` is a relative path of plain components (no `..`, no root), so a file an
/// artifact names is always written inside the output directory.
fn checked_relative(name: &str) -> Result<PathBuf, String> {
    let path = Path::new(name);
    let plain = !name.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)));
    if plain {
        Ok(path.to_owned())
    } else {
        Err(format!(
            "expected a relative path of plain components, found `{name}`"
        ))
    }
}

/// Writes `files` (relative path, bytes) under `dir`, each atomically, creating subdirectories.
/// Returns the paths written.
pub fn write_output_files(
    dir: &Path,
    files: &[(String, Vec<u8>)],
) -> Result<Vec<PathBuf>, ArtifactError> {
    let mut written = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let relative = checked_relative(name).map_err(|message| ArtifactError::Io {
            path: dir.join(name),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
        })?;
        let path = dir.join(relative);
        crate::write_atomically(&path, |f| std::io::Write::write_all(f, bytes)).map_err(
            |source| ArtifactError::Io {
                path: path.clone(),
                source,
            },
        )?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_file_names_must_stay_inside_the_directory() {
        for good in ["report.md", "plots/a.png", "a/b/c.svg"] {
            assert!(checked_relative(good).is_ok(), "{good}");
        }
        for bad in ["", "/etc/passwd", "../x.png", "plots/../../x", "./x"] {
            assert!(checked_relative(bad).is_err(), "{bad}");
        }
    }

    /// A report's files stay under `plots/`: a crafted report cannot overwrite
    /// `predictions.json` in the output directory.
    #[test]
    fn report_files_cannot_collide_with_other_stages_files() {
        let report = |name: &str| Report {
            title: "t".to_owned(),
            markdown: String::new(),
            html: String::new(),
            files: vec![(name.to_owned(), Vec::new())],
        };
        assert_eq!(report("plots/a.png").validate(), Ok(()));
        for bad in [
            "predictions.json",
            "plots",
            "../plots/a.png",
            "plotsx/a.png",
        ] {
            assert!(report(bad).validate().is_err(), "{bad}");
        }
        let bytes = crate::encode(&report("predictions.json")).unwrap();
        let err = crate::decode::<Report>(&bytes, Path::new("r.bin")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`r.bin` is not a valid `report` artifact: the report's file `predictions.json` is \
             not under `plots/`"
        );
        assert!(err.is_corrupt());
    }

    #[test]
    fn output_files_are_written_with_their_directories() {
        let dir = tempfile::tempdir().unwrap();
        let report = Report {
            title: "t".to_owned(),
            markdown: "# t\n".to_owned(),
            html: "<html></html>\n".to_owned(),
            files: vec![("plots/p.png".to_owned(), vec![1, 2, 3])],
        };
        let written = write_output_files(dir.path(), &report.output_files()).unwrap();
        assert_eq!(written.len(), 3);
        assert_eq!(
            std::fs::read(dir.path().join("plots/p.png")).unwrap(),
            [1, 2, 3]
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("report.md")).unwrap(),
            "# t\n"
        );
        let escape = vec![("../x".to_owned(), Vec::new())];
        assert!(write_output_files(dir.path(), &escape).is_err());
    }
}

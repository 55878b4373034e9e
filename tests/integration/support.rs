use std::path::{Path, PathBuf};
use std::process::Command;

/// `insta::assert_snapshot!` with the run timings a command prints (`0.36s`, right-aligned) filtered
/// to `[TIME]`, padding included.
macro_rules! assert_run_snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ filters => vec![(r" +\d+(?:\.\d+)?s\b", " [TIME]")] }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared evaluation data: `$COD_DATA`, else `../shared/data` beside the project. Fails the
/// test, naming the place, when `needed` (a path inside it) is missing.
pub fn shared_data(needed: &str) -> PathBuf {
    let data =
        std::env::var_os("COD_DATA").map_or_else(|| root().join("../shared/data"), PathBuf::from);
    assert!(
        data.join(needed).exists(),
        "`{}` is missing: the shared data is expected at ../shared/data or $COD_DATA",
        data.join(needed).display()
    );
    data
}

/// A binary built beside `cod`: the stage binaries and `cod-sim`. The first call builds every
/// binary of the workspace, with the profile and target directory of this test, so a plain
/// `cargo test` runs them up to date.
pub fn sibling_binary(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let cod = PathBuf::from(env!("CARGO_BIN_EXE_cod"));
    let profile_dir = cod.parent().expect("a directory");
    let built = BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args(["build", "--workspace", "--bins", "--quiet"])
            .current_dir(root())
            .env(
                "CARGO_TARGET_DIR",
                profile_dir.parent().expect("the target directory"),
            );
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            command.arg("--release");
        }
        match command.output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
            Err(err) => Err(err.to_string()),
        }
    });
    if let Err(err) = built {
        panic!("cannot build the workspace's binaries: {err}");
    }
    let path = cod.with_file_name(name);
    assert!(
        path.exists(),
        "`{}` is not a binary of the workspace",
        path.display()
    );
    path
}

/// The output of one command.
pub struct Output {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// A scratch project directory with its own cache; runs `cod` there.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        Project {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn cache(&self) -> PathBuf {
        self.path().join("cache")
    }

    /// Runs `cod ARGS` in the project directory with the project's cache.
    pub fn cod(&self, args: &[&str]) -> Output {
        self.run(Command::new(env!("CARGO_BIN_EXE_cod")).args(args))
    }

    pub fn run(&self, command: &mut Command) -> Output {
        let out = command
            .current_dir(self.path())
            .env("COD_CACHE", self.cache())
            .env_remove("CI")
            .output()
            .unwrap();
        Output {
            ok: out.status.success(),
            stdout: self.redact(&String::from_utf8_lossy(&out.stdout)),
            stderr: self.redact(&String::from_utf8_lossy(&out.stderr)),
        }
    }

    /// Replaces the scratch and repository paths and timings with placeholders.
    /// `text` with this project's temporary directory and the repository root written as `[TMP]`
    /// and `[ROOT]`, so messages naming files compare exactly. Snapshots filter run timings with
    /// [`assert_run_snapshot!`].
    pub fn redact(&self, text: &str) -> String {
        let text = text
            .replace(&self.path().display().to_string(), "[TMP]")
            .replace(&root().display().to_string(), "[ROOT]");
        text.lines().collect::<Vec<_>>().join("\n")
    }

    /// `cod artifact show FILE --json`, parsed.
    pub fn artifact_json(&self, file: &str) -> serde_json::Value {
        let out = self.cod(&["artifact", "show", file, "--json"]);
        assert!(out.ok, "{}", out.stderr);
        serde_json::from_str(&out.stdout).unwrap()
    }

    /// Artifact files in the cache.
    pub fn cached_objects(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.cache().join("objects")) {
            Ok(dir) => {
                let mut v: Vec<_> = dir
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "bin"))
                    .collect();
                v.sort();
                v
            }
            Err(_) => Vec::new(),
        }
    }
}

/// A tiny tidy data set: 2 benchmarks, 3 ladder models and a target.
pub const TINY_MODELS: &str = r#"
[[model]]
name = "s"
params = 1e6
tokens = 2e7

[[model]]
name = "m"
params = 4e6
tokens = 8e7

[[model]]
name = "l"
params = 1.6e7
tokens = 3.2e8
flops = 3e16

[[model]]
name = "t"
params = 1e9
tokens = 2e10
role = "target"
"#;

pub const TINY_ITEMS: &str = "\
benchmark,item,model,n_samples,n_correct
arith,a1,s,10,1
arith,a1,m,10,4
arith,a1,l,10,9
arith,a1,t,10,10
arith,a2,s,10,0
arith,a2,m,10,0
arith,a2,l,10,0
arith,a3,m,10,2
arith,a3,s,10,3
arith,a3,l,10,5
arith,a3,t,10,7
words,w1,s,1,0
words,w1,m,1,1
words,w1,l,1,1
words,w1,t,1,1
words,w2,s,1,1
words,w2,m,1,0
words,w2,l,1,1
";

pub const TINY_PIPELINE: &str = r#"
[pipeline]
description = "tiny"

[ingest]
path = "items.csv"
manifest = "models.toml"

[features]
inputs = ["ingest"]
"#;

impl Project {
    /// A project holding the tiny data set and its pipeline, `tiny.toml`.
    pub fn tiny() -> Project {
        let p = Project::new();
        p.write("models.toml", TINY_MODELS);
        p.write("items.csv", TINY_ITEMS);
        p.write("tiny.toml", TINY_PIPELINE);
        p
    }
}

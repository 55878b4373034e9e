//! The prediction methods, as types. Artifacts store a method by its name, so the bytes on disk
//! are those of a string; code produces and matches the variants.

use std::fmt;

/// Declares a method enum: each variant's name, what it needs, and whether it is a diagnostic.
macro_rules! methods {
    (
        $(#[$meta:meta])*
        $enum:ident {
            $($(#[$vmeta:meta])* $variant:ident = $name:literal, needs $needs:literal, $diagnostic:literal;)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $enum {
            $($(#[$vmeta])* $variant,)*
        }

        impl $enum {
            /// Every method, in the order the artifacts list them.
            pub const ALL: &[$enum] = &[$($enum::$variant,)*];

            /// The name artifacts, tables and pipeline files use.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self {
                    $($enum::$variant => $name,)*
                }
            }

            /// What the method fits, in a few words.
            #[must_use]
            pub fn needs(self) -> &'static str {
                match self {
                    $($enum::$variant => $needs,)*
                }
            }

            /// A diagnostic reads something of the target besides its compute, so it is shown but
            /// never chosen or compared as a prediction.
            #[must_use]
            pub fn is_diagnostic(self) -> bool {
                match self {
                    $($enum::$variant => $diagnostic,)*
                }
            }

            /// The method of this name.
            #[must_use]
            pub fn from_name(name: &str) -> Option<$enum> {
                Self::ALL.iter().copied().find(|m| m.name() == name)
            }
        }

        impl fmt::Display for $enum {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.name())
            }
        }

        impl PartialEq<str> for $enum {
            fn eq(&self, other: &str) -> bool {
                self.name() == other
            }
        }

        impl PartialEq<&str> for $enum {
            fn eq(&self, other: &&str) -> bool {
                self.name() == *other
            }
        }

        impl serde::Serialize for $enum {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $enum {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$enum, D::Error> {
                let name = String::deserialize(d)?;
                $enum::from_name(&name).ok_or_else(|| {
                    let names: Vec<&str> = $enum::ALL.iter().map(|m| m.name()).collect();
                    serde::de::Error::custom(format!(
                        "unknown method `{name}`, expected one of {}",
                        names.join(", ")
                    ))
                })
            }
        }
    };
}

methods! {
    /// The methods of the per-item pipelines (`map` and `bootstrap` artifacts, fit baselines).
    PerItemMethod {
        /// COD with the configured mapping (METHODS §1).
        Cod = "cod", needs "clusters, their laws and the mapping", false;
        /// COD with FITPACK's smoothing spline, when another form is configured.
        CodSpline = "cod-spline", needs "clusters, their laws and the mapping", false;
        /// COD with the Reinsch smoothing spline.
        CodReinsch = "cod-reinsch", needs "clusters, their laws and the mapping", false;
        /// COD with the monotone quartic.
        CodQuartic = "cod-quartic", needs "clusters, their laws and the mapping", false;
        /// COD with PCHIP.
        CodPchip = "cod-pchip", needs "clusters, their laws and the mapping", false;
        /// The predictable subset's accuracy, unmapped.
        CodWithoutMapping = "cod-without-mapping", needs "clusters and their laws", false;
        /// The COD law on the exp-mean accuracy.
        EndToEndExp = "end-to-end-exp", needs "the whole benchmark's curve", false;
        /// The COD law on the mean pass rate.
        EndToEndPassrate = "end-to-end-passrate", needs "the whole benchmark's curve", false;
        /// A broken power law on 1 − mean pass rate.
        EndToEndBnsl = "end-to-end-bnsl", needs "the whole benchmark's curve", false;
        /// The largest ladder model's accuracy.
        NoChange = "no-change", needs "the largest ladder model", false;
        /// A line in log10 compute through the largest ladder models.
        LogLinear = "log-linear", needs "the largest ladder models", false;
        /// Item response theory on every item's counts.
        Irt = "irt", needs "every item's counts", false;
    }
}

methods! {
    /// The methods of the ladder pipelines (`ladder-fits` artifacts).
    LadderMethod {
        /// The two-step law: step 1 then step 2 (METHODS §2).
        Ladder = "ladder", needs "step 1 on (N, D) and step 2", false;
        /// Step 2 at the target's observed loss.
        LadderStep2 = "ladder-step2", needs "the target's observed loss", true;
        /// Loss from compute, then step 2.
        LossIntermediate = "loss-intermediate", needs "L(C) and step 2", false;
        /// Accuracy directly from (N, D).
        OneStep = "one-step", needs "accuracy on (N, D)", false;
        /// Accuracy directly from compute.
        OneStepCompute = "one-step-compute", needs "accuracy on compute", false;
        /// Step 1, then the logit-linear link (floor at chance, ceiling 1) instead of the sigmoid.
        LadderLogit = "ladder-logit", needs "step 1 and the logit-linear step 2", false;
        /// −ln Acc as a power law in N and D, fitted directly (no intermediate).
        LogPower = "log-power", needs "−ln accuracy on (N, D)", false;
        /// −ln Acc as a power law in compute, fitted directly.
        LogPowerCompute = "log-power-compute", needs "−ln accuracy on compute", false;
        /// The largest ladder run's final accuracy.
        NoChange = "no-change", needs "the largest ladder run", false;
        /// A line in log10 compute through the largest runs.
        LogLinear = "log-linear", needs "the largest ladder runs", false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for m in PerItemMethod::ALL {
            assert_eq!(PerItemMethod::from_name(m.name()), Some(*m));
        }
        for m in LadderMethod::ALL {
            assert_eq!(LadderMethod::from_name(m.name()), Some(*m));
        }
        assert_eq!(PerItemMethod::from_name("ladder"), None);
        let err = serde_json::from_str::<LadderMethod>("\"nope\"").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown method `nope`, expected one of ladder,")
        );
        assert!(LadderMethod::LadderStep2.is_diagnostic());
        // Tables align method names with width specifiers.
        assert_eq!(format!("{:<6}|", PerItemMethod::Irt), "irt   |");
        assert!(!PerItemMethod::ALL.iter().any(|m| m.is_diagnostic()));
    }

    /// A method is stored as its name: the same bytes as the `String` it replaced.
    #[test]
    fn stored_as_its_name() {
        let config = bincode::config::standard();
        assert_eq!(
            bincode::serde::encode_to_vec(PerItemMethod::EndToEndBnsl, config).unwrap(),
            bincode::serde::encode_to_vec("end-to-end-bnsl", config).unwrap()
        );
    }
}

//! Any text as a nequip-style YAML configuration: the trainer's and the model's keys parsed and
//! validated as `train` does — errors, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let _ = mlff_train::TrainConfig::from_yaml_str(text);
    if let Ok(value) = serde_yaml::from_str::<serde_json::Value>(text) {
        let _ = mlff_nequip::NequipConfig::from_value(value);
    }
});

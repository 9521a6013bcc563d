//! The library's rules an operator's console follows (issue #18): which lifecycle actions an
//! instance is offered (`Provider::actions_for` / `Instance::actions`, `fleet.actionsFor` in
//! JavaScript), and a create input's every problem at once (`CreateInput::from_json_listing_problems`).

use gpufleet::error::ErrorCode;
use gpufleet::model::{CreateInput, Instance, Operation, Status};
use gpufleet::provider::Provider;
use serde_json::json;
use Operation::{Delete, Restart, Start, Stop, Terminate};

#[test]
fn a_failed_novita_instance_that_exited_offers_start_and_delete_only() {
    // `exited` + statusError → failed (provider/novita.rs map_status): nothing is running to stop.
    let (status, _) = gpufleet::provider::novita::map_status("exited", Some("container exited with code 137"));
    assert_eq!(status, Status::Failed);
    assert_eq!(Provider::Novita.actions_for(status, "exited"), vec![Start, Delete]);
    assert_eq!(Provider::Novita.actions_for(Status::Stopped, "exited"), vec![Start, Delete]);
}

#[test]
fn novita_follows_its_status() {
    assert_eq!(Provider::Novita.actions_for(Status::Running, "running"), vec![Stop, Restart, Delete]);
    assert_eq!(Provider::Novita.actions_for(Status::Provisioning, "pulling"), vec![Stop, Delete]);
    // A failed start (statusError on toStart): the provider may still be trying; everything applies.
    assert_eq!(Provider::Novita.actions_for(Status::Failed, "toStart"), vec![Start, Stop, Restart, Delete]);
    assert_eq!(Provider::Novita.actions_for(Status::Stopping, "toStop"), vec![Delete]);
    assert!(Provider::Novita.actions_for(Status::Terminating, "removing").is_empty());
    assert!(Provider::Novita.actions_for(Status::Terminated, "removed").is_empty());
    assert_eq!(Provider::Novita.actions_for(Status::Unknown, "hibernating"), vec![Start, Stop, Restart, Delete]);
}

#[test]
fn sfcompute_terminates_live_instances_and_deletes_ended_ones() {
    assert_eq!(Provider::Sfcompute.actions_for(Status::Running, "running"), vec![Terminate]);
    assert_eq!(Provider::Sfcompute.actions_for(Status::Pending, "awaiting_allocation"), vec![Terminate]);
    assert_eq!(Provider::Sfcompute.actions_for(Status::Terminated, "terminated"), vec![Delete]);
    assert_eq!(Provider::Sfcompute.actions_for(Status::Failed, "failed"), vec![Terminate, Delete]);
}

#[test]
fn fal_offers_only_delete() {
    for p in [Provider::Fal, Provider::FalAlpha] {
        for s in Status::ALL {
            assert_eq!(p.actions_for(s, "whatever"), vec![Delete], "{p:?} {s:?}");
        }
    }
}

#[test]
fn every_action_offered_is_one_the_provider_supports() {
    for p in [Provider::Fal, Provider::FalAlpha, Provider::Sfcompute, Provider::Novita] {
        let caps = p.capabilities();
        for s in Status::ALL {
            for op in p.actions_for(s, "") {
                assert!(caps.supports(op), "{p:?} {s:?} offers unsupported {op:?}");
                assert!(matches!(op, Start | Stop | Restart | Terminate | Delete));
            }
        }
    }
}

#[test]
fn an_instance_reads_its_own_actions() {
    let i = Instance::new(Provider::Novita, "n1", Status::Failed, "exited");
    assert_eq!(i.actions(), vec![Start, Delete]);
}

/// (field, message) of each detail.
fn problems(e: &gpufleet::error::Error) -> Vec<(String, String)> {
    e.details.iter().map(|d| (d.field.clone().unwrap_or_default(), d.message.clone())).collect()
}

#[test]
fn an_invalid_create_lists_every_missing_required_field() {
    let e = CreateInput::from_json_listing_problems(Provider::Fal, json!({})).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    // The first problem stays the error's field and message, as from_json gives it.
    let plain = CreateInput::from_json(Provider::Fal, json!({})).unwrap_err();
    assert_eq!((e.field.as_deref(), e.message.as_str()), (plain.field.as_deref(), plain.message.as_str()));
    assert_eq!(
        problems(&e),
        vec![("input.instanceType".into(), "is required".into()), ("input.sshKey".into(), "is required".into())]
    );
}

#[test]
fn a_wrong_value_and_a_missing_field_are_both_listed() {
    let e = CreateInput::from_json_listing_problems(Provider::Novita, json!({ "gpuNum": "two" })).unwrap_err();
    let found = problems(&e);
    assert_eq!(found[0].0, e.field.clone().unwrap());
    assert!(!found[0].1.starts_with("input."), "the rule alone: {:?}", found[0]);
    let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    for required in Provider::Novita.capabilities().create_fields.iter().filter(|f| f.required && f.name != "gpuNum") {
        assert!(fields.contains(&format!("input.{}", required.name).as_str()), "{} listed in {fields:?}", required.name);
    }
    let mut unique = fields.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), fields.len(), "no field twice: {fields:?}");
}

#[test]
fn a_valid_create_input_reads_as_before() {
    let input = json!({ "instanceType": "gpu_1x_h100_sxm5", "sshKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl op@example" });
    assert_eq!(
        CreateInput::from_json_listing_problems(Provider::Fal, input.clone()).unwrap(),
        CreateInput::from_json(Provider::Fal, input).unwrap()
    );
}

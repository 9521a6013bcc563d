//! Prices and costs on instances, pure: given what the providers' price sources said (Novita's
//! catalog, SF Compute quotes) and the user's table, set each instance's `price`, `priceNote`
//! and `cost`. No I/O: [`crate::Client`] fetches the sources (cached) and calls [`apply`].
//!
//! Precedence: the user's table (by offer id, then instance type) — an explicit, perhaps
//! negotiated, price; then the provider's catalog (the price it bills); then a market quote
//! (labelled an estimate). Nothing else: an instance without any of these has no price and a
//! `priceNote` saying why.

use std::collections::BTreeMap;

use crate::model::{Cost, CostKind, Instance, Money, Price, PriceSource, Status};
use crate::money::{cost_of, iso_to_unix_seconds, PriceTable};
use crate::provider::novita;
use crate::provider_id::Provider;

/// What the price sources answered for one pricing pass.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Novita's catalog, or why it could not be read (`None`: not asked, no Novita instance).
    pub novita: Option<Result<std::sync::Arc<Vec<novita::Product>>, String>>,
    /// SF Compute's best ask per SKU id, micro-dollars per node-hour (`Ok(None)`: no ask), or
    /// why it could not be read.
    pub sfc_quotes: BTreeMap<String, Result<Option<i64>, String>>,
}

/// Sets `price`, `priceNote` and `cost` on every instance; `now_secs` is the transport clock's.
pub fn apply(instances: &mut [Instance], table: &PriceTable, sources: &Sources, now_secs: i64) {
    for instance in instances {
        let (price, note) = match price_of(instance, table, sources) {
            Ok(price) => (Some(price), None),
            Err(note) => (None, Some(note)),
        };
        instance.cost = price.as_ref().and_then(|p| cost_of_run(instance, p, now_secs));
        instance.price = price;
        instance.price_note = note;
    }
}

/// The SKU ids whose quote prices an instance of `instances` that the table does not price.
pub fn sfc_skus_to_quote(instances: &[Instance], table: &PriceTable) -> Vec<String> {
    let mut skus: Vec<String> = instances
        .iter()
        .filter(|i| i.provider == Provider::Sfcompute && configured(i, table).is_none())
        .filter_map(|i| i.offer_id.clone())
        .collect();
    skus.sort();
    skus.dedup();
    skus
}

/// Whether pricing `instances` needs Novita's catalog.
pub fn needs_novita_catalog(instances: &[Instance], table: &PriceTable) -> bool {
    // Only a product id can be looked up in the catalog.
    instances.iter().any(|i| i.provider == Provider::Novita && i.offer_id.is_some() && configured(i, table).is_none())
}

fn configured(instance: &Instance, table: &PriceTable) -> Option<(i64, String)> {
    [instance.offer_id.as_deref(), instance.instance_type.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|key| table.get(instance.provider, key).map(|micro| (micro, key.to_owned())))
}

fn price_of(instance: &Instance, table: &PriceTable, sources: &Sources) -> Result<Price, String> {
    if let Some((micro, key)) = configured(instance, table) {
        return Ok(Price::new(micro, PriceSource::Configured, Some(format!("your price table ({} {key})", instance.provider))));
    }
    let kind = instance.offer_id.as_deref().or(instance.instance_type.as_deref()).unwrap_or("(no instance type)");
    match instance.provider {
        Provider::Novita if instance.offer_id.is_none() => {
            Err(format!("the record names no product id; set prices.novita[\"{kind}\"]"))
        }
        Provider::Novita => match &sources.novita {
            Some(Ok(products)) => novita::price_from_catalog(products, instance),
            Some(Err(why)) => Err(format!("Novita's catalog could not be read: {why}")),
            None => Err("Novita's catalog was not read".into()),
        },
        Provider::Sfcompute => {
            let Some(sku) = instance.offer_id.as_deref() else {
                return Err(format!("the record names no SKU id; set prices.sfcompute[\"{kind}\"]"));
            };
            match sources.sfc_quotes.get(sku) {
                Some(Ok(Some(micro))) => Ok(Price::new(
                    *micro,
                    PriceSource::Quote,
                    Some(format!(
                        "SF Compute order book, best ask now for one node-hour of {sku}: an estimate, not the price its \
                         order paid"
                    )),
                )),
                Some(Ok(None)) => Err(format!("no ask in SF Compute's order book for {sku}")),
                Some(Err(why)) => Err(format!("SF Compute's quote for {sku} could not be read: {why}")),
                None => Err(format!("no quote asked for {sku}")),
            }
        }
        Provider::Fal | Provider::FalAlpha => {
            Err(format!("fal publishes no compute prices: set prices[\"{}\"][\"{kind}\"] (USD per hour)", instance.provider))
        }
    }
}

/// The cost of the current run of a running instance: from `startedAt` (else `createdAt`) to now.
fn cost_of_run(instance: &Instance, price: &Price, now_secs: i64) -> Option<Cost> {
    if instance.status != Status::Running {
        return None;
    }
    let since = instance.started_at.as_deref().or(instance.created_at.as_deref())?;
    let start = iso_to_unix_seconds(since)?;
    let seconds = u64::try_from(now_secs.saturating_sub(start)).unwrap_or(0);
    Some(Cost {
        amount: Money::from_micro(cost_of(price.micro_usd_per_hour, seconds)),
        kind: CostKind::Estimate,
        seconds,
        since: since.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(provider: Provider, offer: &str, status: Status) -> Instance {
        let mut i = Instance::new(provider, "i-1", status, "x");
        i.offer_id = Some(offer.into());
        i.instance_type = Some(offer.into());
        i.created_at = Some("2026-01-01T00:00:00Z".into());
        i
    }

    #[test]
    fn configured_prices_and_costs() {
        let table = PriceTable::from_json(&serde_json::json!({"fal": {"gpu_1x_h100_sxm5": "1.99"}}), "prices").unwrap();
        let mut items = vec![
            instance(Provider::Fal, "gpu_1x_h100_sxm5", Status::Running),
            instance(Provider::Fal, "gpu_8x_h100_sxm5", Status::Running),
            instance(Provider::Fal, "gpu_1x_h100_sxm5", Status::Stopped),
        ];
        let now = iso_to_unix_seconds("2026-01-01T02:30:00Z").unwrap();
        apply(&mut items, &table, &Sources::default(), now);
        let price = items[0].price.as_ref().unwrap();
        assert_eq!((price.micro_usd_per_hour, price.source), (1_990_000, PriceSource::Configured));
        let cost = items[0].cost.as_ref().unwrap();
        assert_eq!((cost.amount.micro_usd, cost.seconds, cost.kind), (4_975_000, 9000, CostKind::Estimate));
        assert!(items[1].price.is_none());
        assert!(items[1].price_note.as_deref().unwrap().contains("prices[\"fal\"][\"gpu_8x_h100_sxm5\"]"));
        assert!(items[2].price.is_some() && items[2].cost.is_none(), "a stopped instance has a price, no running cost");
    }

    #[test]
    fn quotes_and_missing_sources() {
        let table = PriceTable::default();
        let mut items = vec![
            instance(Provider::Sfcompute, "isku_a", Status::Running),
            instance(Provider::Sfcompute, "isku_b", Status::Running),
        ];
        assert_eq!(sfc_skus_to_quote(&items, &table), ["isku_a", "isku_b"]);
        let mut sources = Sources::default();
        sources.sfc_quotes.insert("isku_a".into(), Ok(Some(20_000_000)));
        sources.sfc_quotes.insert("isku_b".into(), Ok(None));
        apply(&mut items, &table, &sources, 0);
        assert_eq!(items[0].price.as_ref().unwrap().source, PriceSource::Quote);
        assert_eq!(items[0].cost.as_ref().unwrap().seconds, 0, "a start in the future counts as 0 s");
        assert_eq!(items[1].price_note.as_deref(), Some("no ask in SF Compute's order book for isku_b"));
        let mut novita = vec![instance(Provider::Novita, "prod-x", Status::Running)];
        assert!(needs_novita_catalog(&novita, &table));
        let failed = Sources { novita: Some(Err("HTTP 500".into())), ..Sources::default() };
        apply(&mut novita, &table, &failed, 0);
        assert_eq!(novita[0].price_note.as_deref(), Some("Novita's catalog could not be read: HTTP 500"));
    }
}

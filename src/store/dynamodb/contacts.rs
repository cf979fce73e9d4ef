//! [`Contacts`]: contact messages.

use async_trait::async_trait;

use super::DynamoStore;
use super::item::{contact_from, contact_item, contact_key, outbox_attrs};
use crate::domain::{ContactRecord, MailKind};
use crate::store::{Contacts, StoreResult};

#[async_trait]
impl Contacts for DynamoStore {
    async fn put_contact(&self, r: &ContactRecord, claim_until_ms: u64) -> StoreResult<()> {
        let mut item = contact_item(r);
        outbox_attrs(
            &mut item,
            MailKind::Contact,
            &r.id,
            r.created_ms,
            claim_until_ms,
        );
        self.put_new(item, "PutItem(contact)").await
    }

    async fn get_contact(&self, id: &str, now_ms: u64) -> StoreResult<Option<ContactRecord>> {
        let item = self.get_live(contact_key(id), now_ms).await?;
        Ok(item.as_ref().and_then(contact_from))
    }
}

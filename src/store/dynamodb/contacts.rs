//! [`Contacts`]: contact messages.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::DynamoStore;
use super::item::{contact_from, contact_key, n, outbox_attrs, s};
use crate::domain::{ContactRecord, MailKind};
use crate::store::{Contacts, StoreResult};

#[async_trait]
impl Contacts for DynamoStore {
    async fn put_contact(&self, r: &ContactRecord, claim_until_ms: u64) -> StoreResult<()> {
        let mut item = contact_key(&r.id);
        item.insert("type".into(), s("contact"));
        item.insert("name".into(), s(&r.name));
        item.insert("email".into(), s(&r.email));
        if let Some(subject) = &r.subject {
            item.insert("subject".into(), s(subject));
        }
        item.insert("message".into(), s(&r.message));
        item.insert("created_ms".into(), n(r.created_ms));
        item.insert("ip_hash".into(), s(&r.ip_hash));
        item.insert("delivered".into(), AttributeValue::Bool(false));
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

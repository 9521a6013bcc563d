//! placeholder
/// x
pub struct Client;
/// x
pub struct ClientConfig;
/// x
pub struct RetryPolicy;
/// x
pub struct WaitOptions;

//! Opening a link: offer and answer with non-trickle ICE (the complete SDP, every candidate
//! included, is exchanged once each way as a string).

use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    RtcConfiguration, RtcDataChannelInit, RtcIceGatheringState, RtcIceServer, RtcPeerConnection,
    RtcSdpType, RtcSessionDescriptionInit,
};

use super::binding_of;
use super::channel::{Inner, Link, Opened};
use super::sdp::check_loopback;
use super::timer::within;
use super::{js_message, LinkConfig, LinkError, LABEL};

fn setup_error(context: &str) -> impl FnOnce(JsValue) -> LinkError + '_ {
    move |error| LinkError::Setup(format!("{context}: {}", js_message(&error)))
}

fn new_peer_connection(config: &LinkConfig) -> Result<RtcPeerConnection, LinkError> {
    let rtc_config = RtcConfiguration::new();
    // No servers unless configured: then only host candidates are gathered.
    let servers = Array::new();
    for url in &config.ice_servers {
        let server = RtcIceServer::new();
        server.set_urls(&JsValue::from_str(url));
        servers.push(&server);
    }
    rtc_config.set_ice_servers(&servers);
    RtcPeerConnection::new_with_configuration(&rtc_config)
        .map_err(setup_error("creating the peer connection"))
}

fn check_description(config: &LinkConfig, which: &str, sdp: &str) -> Result<(), LinkError> {
    if config.loopback_only {
        check_loopback(sdp).map_err(|e| LinkError::Setup(format!("{which} description: {e}")))?;
    }
    Ok(())
}

fn binding(local_sdp: &str, remote_sdp: &str) -> Result<Vec<u8>, LinkError> {
    binding_of(local_sdp, remote_sdp).ok_or_else(|| {
        LinkError::Setup("a description lacks a single, well-formed DTLS fingerprint".into())
    })
}

/// Creates the offer or answer, applies it and returns the local description once ICE
/// gathering is complete, so it carries every candidate.
async fn complete_local_description(
    pc: &RtcPeerConnection,
    kind: RtcSdpType,
    config: &LinkConfig,
) -> Result<String, LinkError> {
    let created = match kind {
        RtcSdpType::Offer => JsFuture::from(pc.create_offer()).await,
        _ => JsFuture::from(pc.create_answer()).await,
    };
    let description = created.map_err(setup_error("creating the description"))?;

    // Installed before applying the description, which starts gathering.
    let (gathered_tx, gathered) = futures::channel::oneshot::channel::<()>();
    let mut gathered_tx = Some(gathered_tx);
    let watched = pc.clone();
    let on_gathering: Closure<dyn FnMut(JsValue)> = Closure::new(move |_: JsValue| {
        if watched.ice_gathering_state() == RtcIceGatheringState::Complete {
            if let Some(tx) = gathered_tx.take() {
                let _ = tx.send(());
            }
        }
    });
    pc.set_onicegatheringstatechange(Some(on_gathering.as_ref().unchecked_ref()));
    let result = async {
        JsFuture::from(pc.set_local_description(description.unchecked_ref()))
            .await
            .map_err(setup_error("applying the local description"))?;
        if pc.ice_gathering_state() != RtcIceGatheringState::Complete {
            within(config.open_timeout_ms, gathered)
                .await?
                .map_err(|_| LinkError::Setup("ICE gathering was abandoned".into()))?;
        }
        pc.local_description()
            .map(|d| d.sdp())
            .ok_or_else(|| LinkError::Setup("no local description after gathering".into()))
    }
    .await;
    pc.set_onicegatheringstatechange(None);
    drop(on_gathering);
    let sdp = result?;
    check_description(config, "local", &sdp)?;
    Ok(sdp)
}

async fn apply_remote_description(
    pc: &RtcPeerConnection,
    kind: RtcSdpType,
    sdp: &str,
) -> Result<(), LinkError> {
    let description = RtcSessionDescriptionInit::new(kind);
    description.set_sdp(sdp);
    JsFuture::from(pc.set_remote_description(&description))
        .await
        .map(|_| ())
        .map_err(setup_error("applying the remote description"))
}

/// Waits for the channel to open; on any failure the link is shut down.
async fn wait_open(inner: Rc<Inner>, opened: Opened, timeout_ms: u32) -> Result<Link, LinkError> {
    let result = match within(timeout_ms, opened).await {
        Ok(Ok(Ok(()))) => Ok(Link::new(inner.clone())),
        Ok(Ok(Err(reason))) => Err(reason),
        Ok(Err(_canceled)) => Err(LinkError::Closed),
        Err(timeout) => Err(timeout),
    };
    if let Err(error) = &result {
        inner.shutdown(error.clone());
    }
    result
}

/// Shuts the half-built link down when a setup step fails.
fn or_shutdown<T>(inner: &Rc<Inner>, result: Result<T, LinkError>) -> Result<T, LinkError> {
    if let Err(error) = &result {
        inner.shutdown(error.clone());
    }
    result
}

/// The offering side of a link, waiting for the answer.
pub struct PendingLink {
    inner: Rc<Inner>,
    opened: Opened,
    local_sdp: String,
    config: LinkConfig,
}

impl std::fmt::Debug for PendingLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLink").finish_non_exhaustive()
    }
}

/// Starts a link as the offering side: creates the connection and the ordered, reliable
/// `"frames"` channel, and gathers ICE candidates. Send [`PendingLink::local_sdp`] to the remote
/// end and pass its answer to [`PendingLink::accept_answer`]. Dropping the pending link closes
/// the connection.
pub async fn offer(config: &LinkConfig) -> Result<PendingLink, LinkError> {
    let pc = new_peer_connection(config)?;
    let (inner, opened) = Inner::new(pc);
    let init = RtcDataChannelInit::new();
    init.set_ordered(true);
    // Created before the offer, so the offer carries the SCTP section.
    let dc = inner
        .pc()
        .create_data_channel_with_data_channel_dict(LABEL, &init);
    inner.attach(dc);
    let local_sdp = complete_local_description(inner.pc(), RtcSdpType::Offer, config).await;
    let local_sdp = or_shutdown(&inner, local_sdp)?;
    Ok(PendingLink {
        inner,
        opened,
        local_sdp,
        config: config.clone(),
    })
}

impl PendingLink {
    /// The complete offer to send to the remote end.
    pub fn local_sdp(&self) -> &str {
        &self.local_sdp
    }

    /// Applies the remote end's answer and resolves once the channel is open, or fails with
    /// [`LinkError::Timeout`] after `config.open_timeout_ms`, [`LinkError::Setup`] for an
    /// unusable answer, or the reason the connection closed.
    pub async fn accept_answer(self, answer_sdp: &str) -> Result<Link, LinkError> {
        let Self {
            inner,
            opened,
            local_sdp,
            config,
        } = self;
        let checked = check_description(&config, "remote", answer_sdp)
            .and_then(|()| binding(&local_sdp, answer_sdp));
        let binding = or_shutdown(&inner, checked)?;
        inner.set_binding(binding);
        let applied = apply_remote_description(inner.pc(), RtcSdpType::Answer, answer_sdp).await;
        or_shutdown(&inner, applied)?;
        wait_open(inner, opened, config.open_timeout_ms).await
    }
}

/// The answering side of a link, its answer made, waiting for the channel to open.
pub struct PendingAnswer {
    inner: Rc<Inner>,
    opened: Opened,
    config: LinkConfig,
}

impl std::fmt::Debug for PendingAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAnswer").finish_non_exhaustive()
    }
}

/// Answers a remote offer: returns the pending link and the complete answer to send back.
/// Dropping the pending link closes the connection.
pub async fn answer(
    config: &LinkConfig,
    offer_sdp: &str,
) -> Result<(PendingAnswer, String), LinkError> {
    check_description(config, "remote", offer_sdp)?;
    let pc = new_peer_connection(config)?;
    let (inner, opened) = Inner::new(pc);
    inner.accept_channel();
    let applied = apply_remote_description(inner.pc(), RtcSdpType::Offer, offer_sdp).await;
    or_shutdown(&inner, applied)?;
    let local_sdp = complete_local_description(inner.pc(), RtcSdpType::Answer, config).await;
    let local_sdp = or_shutdown(&inner, local_sdp)?;
    let binding = or_shutdown(&inner, binding(&local_sdp, offer_sdp))?;
    inner.set_binding(binding);
    let pending = PendingAnswer {
        inner,
        opened,
        config: config.clone(),
    };
    Ok((pending, local_sdp))
}

impl PendingAnswer {
    /// Resolves once the remote end's channel has arrived and is open, or fails with
    /// [`LinkError::Timeout`] after `config.open_timeout_ms` (counted from this call) or the
    /// reason the connection closed.
    pub async fn open(self) -> Result<Link, LinkError> {
        wait_open(self.inner, self.opened, self.config.open_timeout_ms).await
    }
}

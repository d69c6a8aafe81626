//! Mail on state changes (`smtp_alert`), worded as keepalived's, and the minimal SMTP
//! client that sends it: HELO, MAIL FROM, one RCPT TO per address, DATA, QUIT, each
//! step bounded by `smtp_connect_timeout`.

use std::time::{Duration, SystemTime};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use vrrp_core::NotifyState;

use crate::Error;
use crate::log::Civil;
use crate::tz::Zone;

/// keepalived's default `smtp_connect_timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// `notification_email_from`.
    pub from: String,
    /// `notification_email`.
    pub to: Vec<String>,
    /// The subject line.
    pub subject: String,
    /// The body (one line in keepalived's alerts).
    pub body: String,
}

/// The subject and body keepalived uses for an instance entering `state`:
/// `[LVS_HAPROXY] VRRP Instance VI_1 - Entering MASTER state` and
/// `=> VRRP Instance is now owning VRRP VIPs <=`.
pub fn instance_alert(router_id: &str, instance: &str, state: NotifyState) -> (String, String) {
    let (what, body) = match state {
        NotifyState::Master => (
            "Entering MASTER state",
            "=> VRRP Instance is now owning VRRP VIPs <=",
        ),
        NotifyState::Backup => (
            "Entering BACKUP state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        NotifyState::Fault => (
            "Entering FAULT state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        NotifyState::Stop => ("Stopping", "=> VRRP Instance stopping <="),
    };
    (
        format!("[{router_id}] VRRP Instance {instance} - {what}"),
        body.to_string(),
    )
}

/// The subject and body for a sync group whose instances all entered `state`.
pub fn group_alert(router_id: &str, group: &str, state: NotifyState) -> (String, String) {
    let (what, body) = match state {
        NotifyState::Master => (
            "Entering MASTER state",
            "=> All VRRP group instances are now in MASTER state <=",
        ),
        NotifyState::Backup => (
            "Entering BACKUP state",
            "=> All VRRP group instances are now in BACKUP state <=",
        ),
        NotifyState::Fault => (
            "Entering FAULT state",
            "=> All VRRP group instances are now in FAULT state <=",
        ),
        NotifyState::Stop => (
            "Stopping",
            "=> All VRRP group instances are now stopping <=",
        ),
    };
    (
        format!("[{router_id}] VRRP Group {group} - {what}"),
        body.to_string(),
    )
}

/// `Sat, 28 Nov 2026 08:51:37 +0000`.
pub fn date_header(now: SystemTime, zone: &Zone) -> String {
    let c = Civil::from_system(now, zone);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} {}",
        c.weekday_name(),
        c.day,
        c.month_name(),
        c.year,
        c.hour,
        c.minute,
        c.second,
        c.offset_hhmm()
    )
}

impl Mail {
    /// The DATA payload: headers, blank line, body, dot-stuffed, CRLF line ends, and the
    /// terminating `.` line.
    pub fn data(&self, now: SystemTime, zone: &Zone) -> String {
        let mut text = format!(
            "Date: {}\r\nFrom: {}\r\nSubject: {}\r\nX-Mailer: Keepalived\r\nTo: {}\r\n\r\n",
            date_header(now, zone),
            self.from,
            self.subject,
            self.to.join(", ")
        );
        for line in self.body.lines() {
            if line.starts_with('.') {
                text.push('.');
            }
            text.push_str(line);
            text.push_str("\r\n");
        }
        text.push_str(".\r\n");
        text
    }
}

/// Sends `mail` through `server` (`host:port`), introducing ourselves as `helo`.
/// Connecting and every reply wait at most `timeout`.
pub async fn send(server: &str, helo: &str, mail: &Mail, timeout: Duration) -> Result<(), Error> {
    let fail = |reason: String| Error::Smtp {
        server: server.to_string(),
        reason,
    };
    let stream = tokio::time::timeout(timeout, TcpStream::connect(server))
        .await
        .map_err(|_| fail("timeout connecting".into()))?
        .map_err(|e| fail(format!("connect: {e}")))?;
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    let mut expect = async |step: &str, ok: &[u16]| -> Result<(), Error> {
        let code = tokio::time::timeout(timeout, reply(&mut rd))
            .await
            .map_err(|_| fail(format!("timeout waiting for the {step} reply")))?
            .map_err(|e| fail(format!("{step}: {e}")))?;
        if ok.contains(&code.0) {
            Ok(())
        } else {
            Err(fail(format!("{step} refused: {} {}", code.0, code.1)))
        }
    };
    expect("greeting", &[220]).await?;
    let steps: Vec<(String, &str, &[u16])> =
        std::iter::once((format!("HELO {helo}\r\n"), "HELO", &[250][..]))
            .chain(std::iter::once((
                format!("MAIL FROM:<{}>\r\n", mail.from),
                "MAIL",
                &[250][..],
            )))
            .chain(
                mail.to
                    .iter()
                    .map(|t| (format!("RCPT TO:<{t}>\r\n"), "RCPT", &[250, 251][..])),
            )
            .chain(std::iter::once((
                "DATA\r\n".to_string(),
                "DATA",
                &[354][..],
            )))
            .chain(std::iter::once((
                mail.data(SystemTime::now(), &Zone::local()),
                "BODY",
                &[250][..],
            )))
            .chain(std::iter::once((
                "QUIT\r\n".to_string(),
                "QUIT",
                &[221][..],
            )))
            .collect();
    for (line, step, ok) in steps {
        tokio::time::timeout(timeout, wr.write_all(line.as_bytes()))
            .await
            .map_err(|_| fail(format!("timeout sending {step}")))?
            .map_err(|e| fail(format!("sending {step}: {e}")))?;
        expect(step, ok).await?;
    }
    Ok(())
}

/// Reads one (possibly multi-line) reply: its code and the text of its last line.
async fn reply<R: tokio::io::AsyncBufRead + Unpin>(rd: &mut R) -> std::io::Result<(u16, String)> {
    loop {
        let mut line = String::new();
        if rd.read_line(&mut line).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let line = line.trim_end();
        let code = line
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("not an SMTP reply: '{line}'"),
                )
            })?;
        // "250-..." continues, "250 ..." (or a bare code) ends the reply
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok((code, line.get(4..).unwrap_or("").to_string()));
        }
    }
}

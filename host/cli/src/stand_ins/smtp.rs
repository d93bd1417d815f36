//! An SMTP relay that delivers nowhere: it takes what the host's mail
//! transport sends (no TLS, no AUTH, as `security = "none"` in the demo's
//! `[tenants.mail]`) and writes each message as an `.eml` file a person can
//! open in a mail program.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Largest message taken, like a relay's SIZE limit.
const MAX_MESSAGE: usize = 10 * 1024 * 1024;
/// Longest command line.
const MAX_LINE: usize = 4096;

pub(crate) async fn serve(listener: TcpListener, dir: PathBuf) {
    let counter = Arc::new(AtomicU64::new(0));
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let (dir, counter) = (dir.clone(), counter.clone());
        tokio::spawn(async move {
            if let Err(e) = session(stream, &dir, &counter).await {
                tracing::debug!(error = %e, "SMTP stand-in session ended");
            }
        });
    }
}

async fn session(stream: TcpStream, dir: &std::path::Path, counter: &AtomicU64) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 omnistore demo SMTP stand-in\r\n").await?;
    let mut recipients = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        if line.len() > MAX_LINE {
            write.write_all(b"500 line too long\r\n").await?;
            return Ok(());
        }
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-omnistore-demo\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n",
            "HELO" => b"250 omnistore-demo\r\n",
            "MAIL" => {
                recipients = 0;
                b"250 sender ok\r\n"
            }
            "RCPT" => {
                recipients += 1;
                b"250 recipient ok\r\n"
            }
            "DATA" if recipients == 0 => b"503 no recipients\r\n",
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let message = read_data(&mut lines).await?;
                let Some(message) = message else {
                    write.write_all(b"552 message too large\r\n").await?;
                    continue;
                };
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                let name = format!("{}-{n:05}.eml", omnistore_runtime::system_now_ms());
                tokio::fs::write(dir.join(&name), &message).await?;
                println!("demo mail: received {name} ({} bytes)", message.len());
                recipients = 0;
                b"250 queued\r\n"
            }
            "RSET" => {
                recipients = 0;
                b"250 ok\r\n"
            }
            "NOOP" => b"250 ok\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(answer).await?;
    }
}

/// The message up to the lone dot, dot-unstuffed; `None` when too large.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(lines: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut too_large = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed in DATA"));
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok((!too_large).then_some(message));
        }
        let content = line.strip_prefix(b".").unwrap_or(&line);
        if message.len() + content.len() > MAX_MESSAGE {
            too_large = true;
        } else {
            message.extend_from_slice(content);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn data_ends_at_the_lone_dot_and_is_unstuffed() {
        let mut input: &[u8] = b"Subject: x\r\n\r\n..leading dot\r\nbody\r\n.\r\nQUIT\r\n";
        let message = read_data(&mut input).await.unwrap().unwrap();
        assert_eq!(message, b"Subject: x\r\n\r\n.leading dot\r\nbody\r\n");
    }
}

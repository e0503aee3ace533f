//! Running `p2panda-node` processes in tests: start them, send JSON commands, read their JSON
//! lines and stderr, stop or kill them.

#![allow(dead_code)] // Each test file uses a part.

use std::net::SocketAddr;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use p2panda_rendezvous::{Config, Server};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// How long any one expected line may take.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The program under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_p2panda-node");

/// A rendezvous in this test process, on 127.0.0.1.
pub async fn rendezvous() -> (Server, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let server = Server::new(Config::default());
    tokio::spawn(server.clone().serve(listener));
    (server, addr)
}

/// A running `p2panda-node`, killed when dropped.
pub struct NodeProcess {
    pub name: String,
    pub child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<Value>,
    /// Lines read so far, for failure messages and for looking back.
    pub seen: Vec<Value>,
    pub ready: Value,
    stderr: Arc<Mutex<String>>,
    next_id: u64,
}

impl NodeProcess {
    /// Starts the program with `args`, without waiting for anything.
    pub fn spawn(name: &str, args: &[String]) -> Self {
        Self::spawn_with_env(name, args, &[])
    }

    /// The same, with these environment variables set too.
    pub fn spawn_with_env(name: &str, args: &[String], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(BINARY)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start p2panda-node");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout piped");
        let mut stderr_pipe = child.stderr.take().expect("stderr piped");
        let (sender, lines) = mpsc::unbounded_channel();
        let label = name.to_owned();
        tokio::spawn(async move {
            let mut stdout = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = stdout.next_line().await {
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("{label}: not a JSON line ({e}): {line}"));
                if sender.send(value).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buffer = [0; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buffer).await {
                if n == 0 {
                    return;
                }
                let text = String::from_utf8_lossy(&buffer[..n]).into_owned();
                sink.lock().expect("stderr buffer").push_str(&text);
            }
        });
        NodeProcess {
            name: name.to_owned(),
            child,
            stdin,
            lines,
            seen: Vec::new(),
            ready: Value::Null,
            stderr,
            next_id: 0,
        }
    }

    /// Starts the program with `args` and waits for its `ready: true` line.
    pub async fn start(name: &str, args: &[String]) -> Self {
        Self::start_with_env(name, args, &[]).await
    }

    /// The same, with these environment variables set too.
    pub async fn start_with_env(name: &str, args: &[String], env: &[(&str, &str)]) -> Self {
        let mut node = Self::spawn_with_env(name, args, env);
        node.ready = node.expect(|l| l.get("ready").is_some()).await;
        assert_eq!(
            node.ready["ready"],
            true,
            "{name}: {}\nstderr: {}",
            node.ready,
            node.stderr()
        );
        node
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr buffer").clone()
    }

    pub fn festival(&self) -> String {
        self.ready["festival"]
            .as_str()
            .expect("festival in ready")
            .to_owned()
    }

    /// The next line that satisfies `wanted`, skipping others; fails the test after
    /// [`PATIENCE`] or when the program's output ends.
    pub async fn expect(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                outcome => panic!(
                    "{}: {} while waiting; lines so far: {:#?}\nstderr: {}",
                    self.name,
                    if outcome.is_err() {
                        "timed out"
                    } else {
                        "output ended"
                    },
                    self.seen,
                    self.stderr()
                ),
            }
        }
    }

    /// Every line the process wrote until its output ended (it exited or was killed).
    pub async fn drain(&mut self) -> &[Value] {
        while let Ok(Some(line)) = tokio::time::timeout(PATIENCE, self.lines.recv()).await {
            self.seen.push(line);
        }
        &self.seen
    }

    /// Lines read so far that satisfy `wanted`, without waiting.
    pub fn take_ready_lines(&mut self) -> &[Value] {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        &self.seen
    }

    /// Waits for the `stored` event that reaches `count`.
    pub async fn stored(&mut self, count: u64) -> Value {
        self.expect(|l| l["event"] == "stored" && l["count"].as_u64() >= Some(count))
            .await
    }

    /// Sends a command with a fresh `id` (echoed in its reply), not waiting; returns the id.
    pub async fn send(&mut self, mut command: Value) -> u64 {
        self.next_id += 1;
        command["id"] = json!(self.next_id);
        let line = format!("{command}\n");
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin
            .write_all(line.as_bytes())
            .await
            .expect("write a command");
        self.next_id
    }

    /// Sends a command and returns its reply.
    pub async fn command(&mut self, command: Value) -> Value {
        let id = self.send(command).await;
        self.expect(move |l| l.get("reply").is_some() && l["id"] == id)
            .await
    }

    /// Quits politely and checks the program exits with success.
    pub async fn quit(mut self) {
        let reply = self.command(json!({ "cmd": "quit" })).await;
        assert_eq!(reply["ok"], true);
        let status = self.exit().await;
        assert!(status.success(), "{}: {status}", self.name);
    }

    /// Waits for the process to end.
    pub async fn exit(&mut self) -> ExitStatus {
        tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("exit in time")
            .expect("exit status")
    }

    /// SIGKILL, then waits for the process to be gone.
    pub async fn kill(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        self.exit().await;
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("running");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
    }
}

/// Strings for an argument list.
pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

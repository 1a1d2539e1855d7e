//! The sink trait every output implements, and what a sink is handed: the
//! alert with its line already rendered once for all sinks.

use std::io;

use super::alert::Alert;

/// An alert on its way to the sinks: the alert and its rendered line (text
/// or JSON per the configuration, without newline).
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The alert.
    pub alert: Alert,
    /// The line most sinks write.
    pub line: String,
}

/// An alert destination. Each sink runs on its own thread behind a bounded
/// queue (see [`super::queue`]), so a sink may block; errors are counted
/// and logged by the queue, and the sink is asked again with the next alert.
pub trait Sink: Send {
    /// The sink's configuration name (`file_output`...), for messages and
    /// metrics.
    fn name(&self) -> &'static str;

    /// Sends one alert.
    fn send(&mut self, alert: &Rendered) -> io::Result<()>;

    /// Writes out anything buffered.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Reopens what the sink keeps open (files after log rotation; SIGUSR1).
    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Finishes: flushes and releases what the sink holds (closes a kept
    /// program's input and waits for it).
    fn close(&mut self) -> io::Result<()> {
        self.flush()
    }
}

using DePin.Cli;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C cancels gracefully; a second one ends the process.
    if (cts.IsCancellationRequested) return;
    e.Cancel = true;
    cts.Cancel();
};
// SIGTERM (systemd, Kubernetes, `kill`) stops as gracefully as Ctrl+C: `depin node run` drains what it holds.
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, signal =>
{
    signal.Cancel = true;
    cts.Cancel();
});
return await Cli.RunAsync(args, CliContext.ForConsole(), cts.Token);

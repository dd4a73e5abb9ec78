namespace DePin.Cli.Tests;

/// <summary>What one in-process run of the CLI printed and returned.</summary>
internal sealed record Outcome(int ExitCode, string Out, string Err);

/// <summary>Runs the CLI in process against a stub API, capturing its output.</summary>
internal static class CliRun
{
    /// <summary>Runs <paramref name="args"/>; <paramref name="environment"/> replaces the process environment when given.</summary>
    public static Task<Outcome> RunAsync(StubHandler? handler, Func<string, string?>? environment, string[] args) =>
        RunAsync(handler, environment, keysDirectory: null, args);

    /// <summary>
    /// Runs <paramref name="args"/> with <paramref name="keysDirectory"/> as the local bootstrap key directory (null = one
    /// that does not exist, so no local key is found).
    /// </summary>
    public static async Task<Outcome> RunAsync(StubHandler? handler, Func<string, string?>? environment, string? keysDirectory, string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext
        {
            Out = stdout,
            Error = stderr,
            Handler = handler,
            ApiDefault = "http://api.test:5080",
            PollInterval = TimeSpan.FromMilliseconds(1),
            OutputIsTerminal = true,
            GetEnvironmentVariable = environment ?? Environment.GetEnvironmentVariable,
            KeysDirectory = keysDirectory ?? Path.Combine(Path.GetTempPath(), "depin-no-keys-" + Guid.NewGuid().ToString("N")),
        };
        var code = await Cli.RunAsync(args, context);
        return new Outcome(code, stdout.ToString(), stderr.ToString());
    }
}

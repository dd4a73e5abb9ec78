using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DePin.Client;
using DePin.Settlement.Keys;

namespace DePin.Cli;

public static partial class Cli
{
    /// <summary>Samples of the demo montecarlo-pi job.</summary>
    public const long DemoPiSamples = 200_000_000;
    /// <summary>Units of the demo montecarlo-pi job.</summary>
    public const int DemoPiUnits = 64;
    /// <summary>Length of the demo saxpy vectors (x[i] = i, y[i] = 1).</summary>
    public const int DemoSaxpyLength = 16_384;
    /// <summary>Unit size of the demo saxpy job.</summary>
    public const int DemoSaxpyUnitSize = 4_096;

    private static Command DemoCommand(CliContext context, GlobalOptions g)
    {
        var outDir = new Option<string>("--out") { Description = "Directory for mandelbrot.png", HelpName = "dir", DefaultValueFactory = _ => "." };
        var timeout = DurationOption("--timeout", TimeSpan.FromMinutes(10), "Give up waiting for the API, a node or the jobs after this long");
        var redundancy = new Option<int>("--redundancy", "-r") { Description = "Replicas per unit for the demo jobs", DefaultValueFactory = _ => 1 };
        var cmd = new Command("demo", "One-command demo: wait for the API, run montecarlo-pi, saxpy and mandelbrot jobs, close an epoch, show earnings; with settlement on, wait for the epoch on chain and claim on a local dev chain")
        {
            outDir, timeout, redundancy,
        };
        // Admin key: the demo also closes an epoch.
        SetClientAction(cmd, context, g, run => RunDemoAsync(run, run.Get(outDir) ?? ".", run.Get(timeout), run.Get(redundancy)), admin: true);
        return cmd;
    }

    private static async Task<int> RunDemoAsync(Invocation run, string outDir, TimeSpan timeout, int redundancy)
    {
        var ct = run.CancellationToken;
        var log = run.Json ? run.Err : run.Out; // with --json, stdout holds one JSON document only
        var gate = new object();
        void Say(string line)
        {
            lock (gate) log.WriteLine(line);
        }
        var deadline = DateTimeOffset.UtcNow + timeout;
        TimeSpan Remaining() => deadline - DateTimeOffset.UtcNow is var r && r > TimeSpan.Zero ? r : TimeSpan.Zero;

        // 1. API and nodes.
        Say($"==> waiting for the DePin API at {run.Api}");
        var waited = await WaitReadyAsync(run, Remaining());
        Say($"    ready after {Format.Duration(waited)}");
        var nodes = await WaitForNodesAsync(run, Say, Remaining());
        Say($"    {nodes.Count(n => n.Online)} node(s) online:");
        foreach (var n in nodes.Where(n => n.Online))
            Say($"    - {n.NodeId}: {n.Capabilities.DeviceName} ({n.Capabilities.DeviceKind}), operator {n.OperatorAddress}");

        // 2. Submit.
        var options = new SubmitJobOptions { Redundancy = redundancy };
        var x = Enumerable.Range(0, DemoSaxpyLength).Select(i => (float)i).ToArray();
        var y = Enumerable.Repeat(1f, DemoSaxpyLength).ToArray();
        var jobs = new (string Kernel, object Parameters, string Description)[]
        {
            ("montecarlo-pi", new { samples = DemoPiSamples, units = DemoPiUnits, seed = 1 },
                string.Create(CultureInfo.InvariantCulture, $"{DemoPiSamples / 1_000_000}M samples in {DemoPiUnits} units")),
            ("saxpy", new { a = 2.0, x, y, unitSize = DemoSaxpyUnitSize },
                string.Create(CultureInfo.InvariantCulture, $"y = 2*x + y over {DemoSaxpyLength} floats")),
            ("mandelbrot", new { width = 512, height = 512, maxIterations = 256, centerX = -0.5, centerY = 0.0, scale = 3.0, rowsPerUnit = 16 },
                "512x512 image, 256 iterations"),
        };
        Say("==> submitting jobs");
        var submitted = new List<JobInfo>();
        foreach (var (kernel, parameters, description) in jobs)
        {
            var job = await run.Client.SubmitJobAsync(kernel, parameters, options, ct);
            submitted.Add(job);
            Say($"    {kernel,-14} {job.JobId,-32}  {description}: {job.UnitCount} units, price {Format.Credits(job.PriceMicroCredits)}");
        }

        // 3. Wait, with progress lines.
        Say("==> running");
        var finals = await Task.WhenAll(submitted.Select(j => run.Client.WaitForCompletionAsync(j.JobId,
            new SyncProgress(p => Say("    " + Format.ProgressLine(p))), run.Context.PollInterval, Remaining(), ct)));

        // 4. Results.
        Say("==> results");
        var report = new Dictionary<string, object?>();
        bool allOk = true;
        foreach (var job in finals)
        {
            var elapsed = job.FinishedAt is { } f ? " in " + Format.Duration(f - (job.StartedAt ?? job.SubmittedAt)) : "";
            if (job.Status != JobStatus.Completed)
            {
                allOk = false;
                Say($"    {job.Kernel}: {job.Status}{(job.Error is null ? "" : ": " + job.Error)}");
                report[job.Kernel] = new { job.JobId, job.Status, job.Error };
                continue;
            }
            var result = await run.Client.GetResultAsync(job.JobId, ct);
            switch (job.Kernel)
            {
                case "montecarlo-pi":
                    {
                        using var doc = result.ToJsonDocument();
                        double pi = doc.RootElement.GetProperty("pi").GetDouble();
                        Say(string.Create(CultureInfo.InvariantCulture, $"    montecarlo-pi: pi ~ {pi:F8} (error {pi - Math.PI:+0.00E+00;-0.00E+00}){elapsed}"));
                        report[job.Kernel] = new { job.JobId, pi, error = pi - Math.PI, digest = result.Digest };
                        break;
                    }
                case "saxpy":
                    {
                        using var doc = result.ToJsonDocument();
                        var ys = doc.RootElement.GetProperty("y").EnumerateArray()
                            .Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN).ToArray();
                        int bad = 0;
                        for (int i = 0; i < ys.Length && i < x.Length; i++)
                            if (Math.Abs(ys[i] - (2.0 * x[i] + y[i])) > 1e-3 * Math.Max(1, Math.Abs(ys[i]))) bad++;
                        var first = string.Join(", ", ys.Take(8).Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
                        var check = ys.Length == x.Length && bad == 0 ? "all match 2*x+y" : $"{bad} of {ys.Length} differ from 2*x+y";
                        Say($"    saxpy: y[0..8] = [{first}, ...] ({ys.Length} values, {check}){elapsed}");
                        allOk &= bad == 0;
                        report[job.Kernel] = new { job.JobId, first = ys.Take(8), count = ys.Length, mismatches = bad, digest = result.Digest };
                        break;
                    }
                case "mandelbrot":
                    {
                        Directory.CreateDirectory(outDir);
                        var path = Path.GetFullPath(Path.Combine(outDir, "mandelbrot.png"));
                        await File.WriteAllBytesAsync(path, result.Bytes, ct);
                        Say($"    mandelbrot: wrote {path} ({Format.Bytes(result.Bytes.Length)}, {result.ContentType}){elapsed}");
                        report[job.Kernel] = new { job.JobId, path, bytes = result.Bytes.Length, digest = result.Digest };
                        break;
                    }
            }
            Say($"      sha256 {result.Digest} verified" + (string.IsNullOrEmpty(job.ResultSummary) ? "" : $"; {job.ResultSummary}"));
        }

        // 5. Close an epoch (credits may land a moment after the last unit) and show earnings.
        Say("==> closing the reward epoch");
        EpochInfo? epoch = null;
        for (int attempt = 0; attempt < 10 && epoch is null; attempt++)
        {
            epoch = await run.Client.CloseEpochAsync(ct);
            if (epoch is null) await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
        if (epoch is null)
            Say("    nothing to close: no credits since the last epoch");
        else
            foreach (var line in Capture(w => WriteEpoch(w, epoch))) Say("    " + line);

        Say("==> operator earnings");
        var accounts = new List<AccountInfo>();
        foreach (var address in nodes.Select(n => n.OperatorAddress).Where(a => !string.IsNullOrWhiteSpace(a)).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            try
            {
                var account = await run.Client.GetAccountAsync(address, ct);
                accounts.Add(account);
                foreach (var line in Capture(w => WriteAccount(w, account))) Say("    " + line);
            }
            catch (DePinApiException ex) when (ex.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.BadRequest)
            {
                Say($"    {address}: {ex.Title}: {ex.Detail}");
            }
        }

        // 6. On-chain settlement of the epoch and, on a local dev chain, a claim for the embedded default operator.
        var settlement = await DemoSettlementAsync(run, Say, epoch, nodes, Remaining);
        allOk &= settlement.Ok;

        if (run.Json)
        {
            run.Out.WriteLine(Format.Json(new
            {
                api = run.Api.ToString(),
                nodes,
                jobs = finals,
                results = report,
                epoch,
                accounts,
                settlement = new { info = settlement.Info, epoch = settlement.SettledEpoch, claim = settlement.Claim, error = settlement.Error },
            }));
        }
        Say(allOk ? "==> demo complete" : "==> demo finished with failures");
        return allOk ? ExitOk : ExitError;
    }

    /// <summary>What the demo's settlement step found and did.</summary>
    internal sealed record DemoSettlement(bool Ok, SettlementInfo? Info, EpochInfo? SettledEpoch, ClaimOutcome? Claim, string? Error);

    private static async Task<DemoSettlement> DemoSettlementAsync(Invocation run, Action<string> say, EpochInfo? epoch, IReadOnlyList<NodeInfo> nodes,
        Func<TimeSpan> remaining)
    {
        var ct = run.CancellationToken;
        say("==> on-chain settlement");
        SettlementInfo info;
        try
        {
            info = await run.Client.GetSettlementAsync(ct);
        }
        catch (DePinApiException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            say("    this API has no settlement endpoint (GET /settlement); epochs are only recorded");
            return new DemoSettlement(true, null, null, null, null);
        }
        if (!info.Enabled)
        {
            say($"    settlement is {info.Mode}: the epoch batch is recorded as NotSent and nothing is posted on chain.");
            say("    to settle epochs on a local anvil chain, start the silo with Settlement:Mode=DevChain (env Settlement__Mode=DevChain).");
            return new DemoSettlement(true, info, null, null, null);
        }
        say($"    mode {info.Mode}, chain {info.ChainId?.ToString(CultureInfo.InvariantCulture) ?? "?"} at {info.RpcUrl ?? "?"}, distributor {info.DistributorAddress ?? "?"}");
        if (epoch is null)
        {
            say("    no epoch was closed, so there is nothing to settle");
            return new DemoSettlement(true, info, null, null, null);
        }

        EpochInfo settled;
        try
        {
            say($"    waiting for epoch {epoch.Epoch} to be confirmed on chain");
            settled = await run.Client.WaitForEpochSettledAsync(epoch.Epoch, remaining(),
                new SyncEpochProgress(e => say($"    epoch {e.Epoch}: {e.State}{(e.TransactionHash is null ? "" : " (tx " + e.TransactionHash + ")")}")),
                run.Context.PollInterval, ct);
        }
        catch (TimeoutException ex)
        {
            say("    error: " + ex.Message);
            return new DemoSettlement(false, info, null, null, ex.Message);
        }
        if (settled.State == SettlementState.Empty)
        {
            say($"    epoch {settled.Epoch} is Empty: nothing to settle");
            return new DemoSettlement(true, info, settled, null, null);
        }
        say($"    epoch {settled.Epoch} confirmed: merkle root {settled.MerkleRoot ?? "-"}");
        say($"    settlement transaction {settled.TransactionHash ?? "-"}");

        var devOperator = nodes.Select(n => n.OperatorAddress)
            .FirstOrDefault(a => string.Equals(a, DevChainKeys.Account1Address, StringComparison.OrdinalIgnoreCase));
        if (info.ChainId != DevChainId || devOperator is null)
        {
            say(info.ChainId != DevChainId
                ? $"    not a local dev chain (chain {info.ChainId}); operators claim with `depin claim <address> --keystore <path> --password-file <file>`"
                : $"    no node is operated by anvil dev account #1 ({DevChainKeys.Account1Address}); operators claim with `depin claim <address> ...`");
            return new DemoSettlement(true, info, settled, null, null);
        }

        say($"==> claiming for operator {devOperator} (anvil PUBLIC dev account #1, local chain only)");
        try
        {
            var proof = await run.Client.GetProofAsync(devOperator, ct);
            var key = ResolveClaimKey(new ClaimKeySource(null, null, null, null, 1), proof.ChainId, run.Context);
            var claim = await ClaimWithProofAsync(run, proof, key, null, DefaultClaimTimeout);
            foreach (var line in Capture(w => WriteClaim(w, claim))) say("    " + line);
            if (claim.Claimed)
                say($"    earnings settled on a local chain and claimed: {claim.AmountTokens} tokens, balance now {claim.BalanceTokens ?? "?"} tokens");
            return new DemoSettlement(true, info, settled, claim, null);
        }
        catch (Exception ex) when (ex is CliUserException or CliUnreachableException or DePinApiException)
        {
            var message = ex is DePinApiException p ? $"{p.Title}: {p.Detail}" : ex.Message;
            say("    error: claim failed: " + message);
            return new DemoSettlement(false, info, settled, null, message);
        }
    }

    /// <summary>Synchronous <see cref="IProgress{T}"/> for epoch states.</summary>
    internal sealed class SyncEpochProgress(Action<EpochInfo> report) : IProgress<EpochInfo>
    {
        public void Report(EpochInfo value) => report(value);
    }

    private static async Task<IReadOnlyList<NodeInfo>> WaitForNodesAsync(Invocation run, Action<string> say, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        bool announced = false;
        while (true)
        {
            var nodes = await run.Client.ListNodesAsync(run.CancellationToken);
            if (nodes.Any(n => n.Online)) return nodes;
            if (!announced)
            {
                say("    no compute node is online yet; waiting for one to register");
                announced = true;
            }
            if (DateTimeOffset.UtcNow >= deadline)
                throw new CliUnreachableException($"no compute node registered with the DePin API at {run.Api} within {Format.Duration(timeout)}.");
            await Task.Delay(run.Context.PollInterval, run.CancellationToken);
        }
    }

    private static IEnumerable<string> Capture(Action<TextWriter> write)
    {
        using var sw = new StringWriter(CultureInfo.InvariantCulture);
        write(sw);
        return sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'));
    }
}

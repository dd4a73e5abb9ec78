using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DePin.Client;

namespace DePin.Cli;

public static partial class Cli
{
    /// <summary>The job-description options shared by <c>submit</c> and <c>quote</c>.</summary>
    private sealed class JobOptions
    {
        public Argument<string> Kernel { get; } = new("kernel") { Description = "Catalog kernel name (see `depin kernels`): saxpy, montecarlo-pi, mandelbrot..." };
        public Option<string?> Parameters { get; } = new("--params", "-p") { Description = "Kernel parameters as a JSON object", HelpName = "json" };
        public Option<string?> ParametersFile { get; } = new("--params-file", "-f") { Description = "Read the kernel parameters from a JSON file ('-' = standard input)", HelpName = "path" };
        public Option<int?> Redundancy { get; } = new("--redundancy", "-r") { Description = "Independent nodes whose outputs must agree per unit (server default 1)", HelpName = "n" };
        public Option<int?> Priority { get; } = new("--priority") { Description = "-100..100, higher runs first (server default 0)", HelpName = "n" };
        public Option<long?> MaxPrice { get; } = new("--max-price") { Description = "Budget in micro-credits; the job is refused when its price is higher", HelpName = "micro-credits" };
        public Option<string[]> DeviceKinds { get; } = new("--device-kind")
        {
            Description = "Only nodes of this device kind: " + string.Join(", ", JobRequirements.KnownDeviceKinds) + " (repeatable; default any)",
            HelpName = "kind",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
            CustomParser = r =>
            {
                var kinds = new List<string>();
                foreach (var token in r.Tokens)
                {
                    foreach (var part in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        var known = JobRequirements.KnownDeviceKinds.FirstOrDefault(k => string.Equals(k, part, StringComparison.OrdinalIgnoreCase));
                        if (known is null)
                        {
                            r.AddError($"'{part}' is not a device kind for --device-kind (use {string.Join(", ", JobRequirements.KnownDeviceKinds)}).");
                            return [];
                        }
                        if (!kinds.Contains(known)) kinds.Add(known);
                    }
                }
                return [.. kinds];
            },
        };
        public Option<long?> MinMemory { get; } = new("--min-memory")
        {
            Description = "Only nodes with at least this much device memory, in bytes (suffixes KiB, MiB, GiB, TiB accepted, e.g. 8GiB)",
            HelpName = "bytes",
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (Format.TryParseBytes(text, out var bytes)) return bytes;
                r.AddError($"'{text}' is not a byte count for --min-memory (use e.g. 8589934592 or 8GiB).");
                return null;
            },
        };
        public Option<double?> MinGflops { get; } = new("--min-gflops")
        {
            Description = "Only nodes whose measured SGEMM throughput is at least this many GFLOP/s",
            HelpName = "x",
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 && double.IsFinite(v)) return v;
                r.AddError($"'{text}' is not a non-negative number for --min-gflops.");
                return null;
            },
        };

        public void AddTo(Command cmd)
        {
            cmd.Arguments.Add(Kernel);
            foreach (var o in new Option[] { Parameters, ParametersFile, Redundancy, Priority, MaxPrice, DeviceKinds, MinMemory, MinGflops }) cmd.Options.Add(o);
            cmd.Validators.Add(r =>
            {
                bool hasInline = r.GetResult(Parameters) is { Implicit: false };
                bool hasFile = r.GetResult(ParametersFile) is { Implicit: false };
                if (hasInline && hasFile) r.AddError("Use either --params or --params-file, not both.");
                else if (!hasInline && !hasFile) r.AddError("Kernel parameters are required: pass --params '<json>' or --params-file <path> (docs/cli.md has examples).");
            });
        }

        public JsonDocument ReadParameters(Invocation run) => Cli.ReadParameters(run.Get(Parameters), run.Get(ParametersFile));

        public SubmitJobOptions SubmitOptions(Invocation run)
        {
            var requirements = new JobRequirements
            {
                DeviceKinds = run.Get(DeviceKinds) ?? [],
                MinMemoryBytes = run.Get(MinMemory),
                MinGflops = run.Get(MinGflops),
            };
            return new SubmitJobOptions
            {
                Redundancy = run.Get(Redundancy),
                Priority = run.Get(Priority),
                MaxPriceMicroCredits = run.Get(MaxPrice),
                Requirements = requirements.IsEmpty ? null : requirements,
            };
        }
    }

    private static Command SubmitCommand(CliContext context, GlobalOptions g)
    {
        var job = new JobOptions();
        var wait = new Option<bool>("--wait", "-w") { Description = "Wait for the job to finish, showing progress, then print its result summary" };
        var idempotencyKey = new Option<string?>("--idempotency-key")
        {
            Description = "Sent as Idempotency-Key: submitting the same job again with the same key returns the first job instead of a new one (24 h)",
            HelpName = "key",
        };
        var timeout = DurationOption("--timeout", TimeSpan.Zero, "With --wait: give up after this long (0 = never)");

        var cmd = new Command("submit", "Submit a job; prints its id");
        job.AddTo(cmd);
        cmd.Options.Add(wait);
        cmd.Options.Add(timeout);
        cmd.Options.Add(idempotencyKey);
        SetClientAction(cmd, context, g, async run => await SubmitAsync(run, job, wait, timeout, idempotencyKey));
        return cmd;
    }

    private static async Task<int> SubmitAsync(Invocation run, JobOptions options, Option<bool> wait, Option<TimeSpan> timeout, Option<string?> idempotencyKey)
    {
        using var doc = options.ReadParameters(run);
        var submitOptions = options.SubmitOptions(run) with { IdempotencyKey = run.Get(idempotencyKey) };
        var job = await run.Client.SubmitJobAsync(run.Get(options.Kernel)!, doc.RootElement, submitOptions, run.CancellationToken);

        if (!run.Get(wait))
        {
            if (run.Json) run.Out.WriteLine(Format.Json(job));
            else
            {
                run.Out.WriteLine(job.JobId);
                run.Err.WriteLine($"submitted {job.Kernel}: {job.UnitCount} units, price {Format.Credits(job.PriceMicroCredits)}; follow it with `depin status {job.JobId}`");
            }
            return ExitOk;
        }

        if (!run.Json) run.Out.WriteLine(job.JobId);
        var t = run.Get(timeout);
        var final = await run.Client.WaitForCompletionAsync(job.JobId, new SyncProgress(j => run.Err.WriteLine(Format.ProgressLine(j))),
            run.Context.PollInterval, t > TimeSpan.Zero ? t : null, run.CancellationToken);
        if (run.Json) run.Out.WriteLine(Format.Json(final));
        else WriteJob(run.Out, final);
        return final.Status == JobStatus.Completed ? ExitOk : ExitError;
    }

    private static Command QuoteCommand(CliContext context, GlobalOptions g)
    {
        var job = new JobOptions();
        var cmd = new Command("quote", "Price a job and estimate its run time on every online node, without submitting it");
        job.AddTo(cmd);
        SetClientAction(cmd, context, g, async run =>
        {
            using var doc = job.ReadParameters(run);
            var options = job.SubmitOptions(run);
            var quote = await run.Client.QuoteJobAsync(run.Get(job.Kernel)!, doc.RootElement, options, run.CancellationToken);
            if (run.Json)
            {
                run.Out.WriteLine(Format.Json(quote));
                return ExitOk;
            }
            WriteQuote(run.Out, quote, options.Requirements);
            if (quote.Nodes.Count > 0 && !quote.Nodes.Any(n => n.Eligible))
                run.Err.WriteLine("note: no online node meets the requirements; a submitted job would wait until one does.");
            return ExitOk;
        });
        return cmd;
    }

    internal static void WriteQuote(TextWriter w, QuoteInfo q, JobRequirements? requirements)
    {
        int eligible = q.Nodes.Count(n => n.Eligible);
        Format.WriteFields(w,
        [
            ("kernel", q.Kernel),
            ("units", q.UnitCount.ToString(CultureInfo.InvariantCulture)),
            ("price", $"{Format.Credits(q.PriceMicroCredits)} ({Format.Credits(q.PricePerUnitMicroCredits)} per unit)"),
            ("estimated work", Format.Gflop(q.EstimatedGflop)),
            ("requirements", requirements is null ? null : Format.Requirements(requirements)),
            ("eligible nodes", $"{eligible.ToString(CultureInfo.InvariantCulture)} of {q.Nodes.Count.ToString(CultureInfo.InvariantCulture)} online"),
        ]);
        w.WriteLine();
        if (q.Nodes.Count == 0)
        {
            w.WriteLine("no nodes online");
            return;
        }
        var table = new TextTable("NODE", "KIND", "SGEMM", "ELIGIBLE", "EXPECTED").AlignRight(2, 4);
        foreach (var n in q.Nodes.OrderByDescending(n => n.Eligible).ThenBy(n => n.ExpectedSeconds ?? double.MaxValue))
        {
            table.Add(n.NodeId, n.DeviceKind, Format.Number(n.SgemmGflops, "0.0") + " GF/s", n.Eligible ? "yes" : "no",
                n.ExpectedSeconds switch
                {
                    null => "-",
                    < 0.0005 => "< 1 ms",
                    { } secs => Format.Duration(TimeSpan.FromSeconds(secs)),
                });
        }
        table.Write(w);
    }

    internal static JsonDocument ReadParameters(string? inline, string? file)
    {
        string text, source;
        if (inline is not null)
        {
            text = inline;
            source = "--params";
        }
        else
        {
            source = file == "-" ? "standard input" : $"'{file}'";
            try
            {
                text = file == "-" ? Console.In.ReadToEnd() : File.ReadAllText(file!);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliUserException($"cannot read the parameters file {source}: {ex.Message}");
            }
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new CliUserException($"the parameters in {source} are not valid JSON: {ex.Message}");
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw new CliUserException($"the parameters in {source} must be a JSON object, e.g. '{{\"samples\":1000000,\"units\":8}}'.");
        }
        return doc;
    }

    private static Argument<string> JobIdArgument() => new("jobId") { Description = "Job id (printed by `depin submit`, listed by `depin jobs`)" };

    private static Command StatusCommand(CliContext context, GlobalOptions g)
    {
        var id = JobIdArgument();
        var cmd = new Command("status", "Show a job's status and progress") { id };
        SetClientAction(cmd, context, g, async run =>
        {
            var job = await run.Client.GetJobAsync(run.Get(id)!, run.CancellationToken);
            if (run.Json) run.Out.WriteLine(Format.Json(job));
            else WriteJob(run.Out, job);
            return ExitOk;
        });
        return cmd;
    }

    internal static void WriteJob(TextWriter w, JobInfo job)
    {
        TimeSpan? elapsed = job.FinishedAt is { } f ? f - (job.StartedAt ?? job.SubmittedAt) : null;
        Format.WriteFields(w,
        [
            ("job", job.JobId),
            ("kernel", job.Kernel),
            ("status", job.Status.ToString()),
            ("progress", string.Create(CultureInfo.InvariantCulture, $"{job.UnitsCompleted}/{job.UnitCount} units ({Format.Percent(Format.Fraction(job))})")),
            ("redundancy", job.Redundancy.ToString(CultureInfo.InvariantCulture)),
            ("priority", job.Priority.ToString(CultureInfo.InvariantCulture)),
            ("price", $"{Format.Credits(job.PriceMicroCredits)} ({Format.Credits(job.PricePerUnitMicroCredits)} per unit)"),
            ("submitted", Format.Time(job.SubmittedAt)),
            ("started", job.StartedAt is null ? null : Format.Time(job.StartedAt)),
            ("finished", job.FinishedAt is null ? null : Format.Time(job.FinishedAt) + (elapsed is { } e ? $" ({Format.Duration(e)})" : "")),
            ("requirements", job.Requirements is { IsEmpty: false } req ? Format.Requirements(req) : null),
            ("estimated work", job.EstimatedGflop > 0 ? Format.Gflop(job.EstimatedGflop) : null),
            ("error", job.Error),
            ("result", job.ResultSummary),
            ("content-type", job.ResultContentType),
            ("digest", job.ResultDigest),
        ]);
    }

    private static Command ResultCommand(CliContext context, GlobalOptions g)
    {
        var id = JobIdArgument();
        var output = new Option<string?>("--output", "-o") { Description = "Write the result bytes to this file", HelpName = "file" };
        var cmd = new Command("result", "Download a completed job's result (digest-verified); JSON results print to stdout, binary ones need -o") { id, output };
        SetClientAction(cmd, context, g, async run =>
        {
            var jobId = run.Get(id)!;
            var result = await run.Client.GetResultAsync(jobId, run.CancellationToken);
            var path = run.Get(output);
            if (path is not null)
            {
                var full = Path.GetFullPath(path);
                await File.WriteAllBytesAsync(full, result.Bytes, run.CancellationToken);
                if (run.Json)
                    run.Out.WriteLine(Format.Json(new { jobId, path = full, contentType = result.ContentType, bytes = result.Bytes.Length, digest = result.Digest }));
                else
                    run.Out.WriteLine($"wrote {Format.Bytes(result.Bytes.Length)} ({result.ContentType}) to {full}; sha256 {result.Digest} verified");
                return ExitOk;
            }
            if (result.IsText)
            {
                var text = Encoding.UTF8.GetString(result.Bytes);
                run.Out.Write(text);
                if (!text.EndsWith('\n')) run.Out.WriteLine();
                return ExitOk;
            }
            if (run.Context.OutputIsTerminal || run.Context.OpenBinaryOutput is null)
            {
                run.Err.WriteLine($"error: the result is {result.ContentType} ({Format.Bytes(result.Bytes.Length)}); refusing to write binary data to the terminal. Use -o <file> (e.g. `depin result {jobId} -o result.png`).");
                return ExitError;
            }
            await run.Out.FlushAsync(run.CancellationToken);
            using (var stdout = run.Context.OpenBinaryOutput())
            {
                await stdout.WriteAsync(result.Bytes, run.CancellationToken);
                await stdout.FlushAsync(run.CancellationToken);
            }
            return ExitOk;
        });
        return cmd;
    }

    private static Command CancelCommand(CliContext context, GlobalOptions g)
    {
        var id = JobIdArgument();
        var cmd = new Command("cancel", "Cancel a job that has not finished") { id };
        SetClientAction(cmd, context, g, async run =>
        {
            var job = await run.Client.CancelJobAsync(run.Get(id)!, run.CancellationToken);
            if (run.Json) run.Out.WriteLine(Format.Json(job));
            else run.Out.WriteLine($"job {job.JobId} is {job.Status} ({job.UnitsCompleted}/{job.UnitCount} units were verified)");
            return ExitOk;
        });
        return cmd;
    }

    private static Command JobsCommand(CliContext context, GlobalOptions g)
    {
        var status = new Option<JobStatus?>("--status", "-s") { Description = "Only jobs in this state: Submitted, Running, Completed, Failed, Cancelled", HelpName = "status" };
        var offset = new Option<int>("--offset") { Description = "Skip this many jobs", DefaultValueFactory = _ => 0 };
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many jobs (1..1000)", DefaultValueFactory = _ => 100 };
        var cmd = new Command("jobs", "List jobs, newest first") { status, offset, limit };
        SetClientAction(cmd, context, g, async run =>
        {
            var jobs = await run.Client.ListJobsAsync(run.Get(status), run.Get(offset), run.Get(limit), run.CancellationToken);
            if (run.Json)
            {
                run.Out.WriteLine(Format.Json(jobs));
                return ExitOk;
            }
            if (jobs.Count == 0)
            {
                run.Out.WriteLine("no jobs");
                return ExitOk;
            }
            var table = new TextTable("JOB", "KERNEL", "STATUS", "UNITS", "SUBMITTED").AlignRight(3);
            foreach (var j in jobs) table.Add(j.JobId, j.Kernel, j.Status.ToString(), j.UnitCount.ToString(CultureInfo.InvariantCulture), Format.Time(j.SubmittedAt));
            table.Write(run.Out);
            return ExitOk;
        });
        return cmd;
    }

    private static Command KernelsCommand(CliContext context, GlobalOptions g)
    {
        var cmd = new Command("kernels", "List the kernel catalog");
        SetClientAction(cmd, context, g, async run =>
        {
            var kernels = await run.Client.ListKernelsAsync(run.CancellationToken);
            if (run.Json)
            {
                run.Out.WriteLine(Format.Json(kernels));
                return ExitOk;
            }
            var table = new TextTable("KERNEL", "COMPARISON", "DESCRIPTION");
            foreach (var k in kernels) table.Add(k.Name, k.Comparison, k.Description);
            table.Write(run.Out);
            return ExitOk;
        });
        return cmd;
    }

    private static Command NodesCommand(CliContext context, GlobalOptions g)
    {
        var cmd = new Command("nodes", "List registered compute nodes");
        SetClientAction(cmd, context, g, async run =>
        {
            var nodes = await run.Client.ListNodesAsync(run.CancellationToken);
            if (run.Json)
            {
                run.Out.WriteLine(Format.Json(nodes));
                return ExitOk;
            }
            if (nodes.Count == 0)
            {
                run.Out.WriteLine("no nodes registered");
                return ExitOk;
            }
            WriteNodes(run.Out, nodes);
            return ExitOk;
        });
        return cmd;
    }

    internal static void WriteNodes(TextWriter w, IReadOnlyList<NodeInfo> nodes)
    {
        var table = new TextTable("NODE", "ONLINE", "DEVICE", "KIND", "MEMORY", "SGEMM", "VERIFIED", "REJECTED", "REPUTATION", "OPERATOR", "LAST HEARTBEAT")
            .AlignRight(4, 5, 6, 7, 8);
        foreach (var n in nodes)
        {
            table.Add(n.NodeId, n.Online ? "yes" : "no", n.Capabilities.DeviceName, n.Capabilities.DeviceKind, Format.Bytes(n.Capabilities.MemoryBytes),
                Format.Number(n.Capabilities.SgemmGflops, "0.0") + " GF/s", n.UnitsVerified.ToString(CultureInfo.InvariantCulture),
                n.UnitsRejected.ToString(CultureInfo.InvariantCulture), Format.Number(n.Reputation, "0.000"), n.OperatorAddress, Format.Time(n.LastHeartbeat));
        }
        table.Write(w);
    }

    private static Command AccountCommand(CliContext context, GlobalOptions g)
    {
        var address = new Argument<string>("address") { Description = "Operator EVM address (0x followed by 40 hex digits)" };
        var cmd = new Command("account", "Show an operator's earnings") { address };
        SetClientAction(cmd, context, g, async run =>
        {
            var account = await run.Client.GetAccountAsync(run.Get(address)!, run.CancellationToken);
            if (run.Json) run.Out.WriteLine(Format.Json(account));
            else WriteAccount(run.Out, account);
            return ExitOk;
        });
        return cmd;
    }

    internal static void WriteAccount(TextWriter w, AccountInfo a) => Format.WriteFields(w, AccountFields(a));

    internal static List<(string Key, string? Value)> AccountFields(AccountInfo a) =>
    [
        ("address", a.Address),
        ("earned", $"{Format.Credits(a.CumulativeMicroCredits)} ({a.CumulativeMicroCredits.ToString(CultureInfo.InvariantCulture)} micro-credits)"),
        ("units credited", a.UnitsCredited.ToString(CultureInfo.InvariantCulture)),
        ("in closed epochs", Format.Credits(a.SettledCumulativeMicroCredits)),
        ("unsettled", Format.Credits(a.CumulativeMicroCredits - a.SettledCumulativeMicroCredits)),
        ("last epoch", a.LastEpoch?.ToString(CultureInfo.InvariantCulture) ?? "-"),
        ("last credit", Format.Time(a.LastCreditAt)),
        ("nodes", a.Nodes.Count == 0 ? "-" : string.Join(", ", a.Nodes)),
    ];

    private static Command EpochsCommand(CliContext context, GlobalOptions g)
    {
        var epoch = new Argument<long?>("epoch") { Description = "Show this epoch's batch in full", Arity = ArgumentArity.ZeroOrOne };
        var offset = new Option<int>("--offset") { Description = "Skip this many epochs", DefaultValueFactory = _ => 0 };
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many epochs", DefaultValueFactory = _ => 50 };
        var cmd = new Command("epochs", "List closed epochs and their settlement batches, or show one with `depin epochs <n>`") { epoch, offset, limit };
        SetClientAction(cmd, context, g, async run =>
        {
            if (run.Get(epoch) is { } n)
            {
                var e = await run.Client.GetEpochAsync(n, run.CancellationToken);
                if (run.Json) run.Out.WriteLine(Format.Json(e));
                else WriteEpoch(run.Out, e);
                return ExitOk;
            }
            var epochs = await run.Client.ListEpochsAsync(run.Get(offset), run.Get(limit), run.CancellationToken);
            if (run.Json)
            {
                run.Out.WriteLine(Format.Json(epochs));
                return ExitOk;
            }
            if (epochs.Count == 0)
            {
                run.Out.WriteLine("no epochs closed yet (close one with `depin close-epoch`)");
                return ExitOk;
            }
            var table = new TextTable("EPOCH", "CLOSED", "ACCOUNTS", "PAID", "EPOCH CREDITS", "TOTAL CUMULATIVE", "STATE", "MERKLE ROOT").AlignRight(0, 2, 3, 4, 5);
            foreach (var e in epochs)
            {
                table.Add(e.Epoch.ToString(CultureInfo.InvariantCulture), Format.Time(e.ClosedAt), e.AccountCount.ToString(CultureInfo.InvariantCulture),
                    e.ChangedAccounts.ToString(CultureInfo.InvariantCulture),
                    Format.Credits(e.EpochMicroCredits), Format.Credits(e.TotalCumulativeMicroCredits), e.State.ToString(), e.MerkleRoot);
            }
            table.Write(run.Out);
            return ExitOk;
        });
        return cmd;
    }

    internal static void WriteEpoch(TextWriter w, EpochInfo e)
    {
        Format.WriteFields(w,
        [
            ("epoch", e.Epoch.ToString(CultureInfo.InvariantCulture)),
            ("closed", Format.Time(e.ClosedAt)),
            ("state", e.State.ToString() + (e.State == SettlementState.NotSent ? " (recorded; not yet settled on chain)" : "")),
            ("accounts", $"{e.AccountCount} ({e.ChangedAccounts} paid in this epoch)"),
            ("epoch credits", Format.Credits(e.EpochMicroCredits)),
            ("total cumulative", Format.Credits(e.TotalCumulativeMicroCredits)),
            ("merkle root", e.MerkleRoot ?? "-"),
            ("transaction", e.TransactionHash ?? "-"),
        ]);
        if (e.Entries.Count == 0) return;
        w.WriteLine();
        var table = new TextTable("ADDRESS", "DELTA", "CUMULATIVE").AlignRight(1, 2);
        foreach (var entry in e.Entries) table.Add(entry.Address, Format.Credits(entry.DeltaMicroCredits), Format.Credits(entry.CumulativeMicroCredits));
        table.Write(w);
    }

    private static Command CloseEpochCommand(CliContext context, GlobalOptions g)
    {
        var cmd = new Command("close-epoch", "Close the open epoch now and record its settlement batch (operator action; admin key)");
        SetClientAction(cmd, context, g, async run =>
        {
            var e = await run.Client.CloseEpochAsync(run.CancellationToken);
            if (run.Json) run.Out.WriteLine(e is null ? "null" : Format.Json(e));
            else if (e is null) run.Out.WriteLine("nothing to close: no credits since the last epoch");
            else WriteEpoch(run.Out, e);
            return ExitOk;
        }, admin: true);
        return cmd;
    }

    private static Command WaitReadyCommand(CliContext context, GlobalOptions g)
    {
        var timeout = DurationOption("--timeout", TimeSpan.FromSeconds(60), "Give up after this long");
        var cmd = new Command("wait-ready", "Wait until the API answers GET /health with 200 (exit 0), or time out (exit 2)") { timeout };
        SetClientAction(cmd, context, g, async run =>
        {
            var elapsed = await WaitReadyAsync(run, run.Get(timeout));
            if (run.Json) run.Out.WriteLine(Format.Json(new { api = run.Api.ToString(), ready = true, waitedMs = (long)elapsed.TotalMilliseconds }));
            else run.Out.WriteLine($"ready: {run.Api} (after {Format.Duration(elapsed)})");
            return ExitOk;
        });
        return cmd;
    }

    /// <summary>Polls <c>GET /health</c> until 200; throws <see cref="CliUnreachableException"/> at the deadline.</summary>
    internal static async Task<TimeSpan> WaitReadyAsync(Invocation run, TimeSpan timeout)
    {
        var started = DateTimeOffset.UtcNow;
        var deadline = started + timeout;
        string last = "no answer yet";
        while (true)
        {
            run.CancellationToken.ThrowIfCancellationRequested();
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(run.CancellationToken))
            {
                attempt.CancelAfter(TimeSpan.FromSeconds(5));
                try
                {
                    if (await run.Client.IsHealthyAsync(attempt.Token)) return DateTimeOffset.UtcNow - started;
                    last = "GET /health did not answer 200";
                }
                catch (HttpRequestException ex)
                {
                    last = Reason(ex);
                }
                catch (OperationCanceledException) when (!run.CancellationToken.IsCancellationRequested)
                {
                    last = "GET /health timed out";
                }
            }
            var remaining = deadline - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
                throw new CliUnreachableException($"the DePin API at {run.Api} was not ready within {Format.Duration(timeout)} (last attempt: {last}).");
            await Task.Delay(remaining < run.Context.PollInterval ? remaining : run.Context.PollInterval, run.CancellationToken);
        }
    }

    /// <summary>Synchronous <see cref="IProgress{T}"/> (Progress&lt;T&gt; posts to the thread pool, which would reorder lines).</summary>
    internal sealed class SyncProgress(Action<JobInfo> report) : IProgress<JobInfo>
    {
        public void Report(JobInfo value) => report(value);
    }
}

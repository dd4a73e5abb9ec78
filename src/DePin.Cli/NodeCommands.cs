using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DePin.Compute.Devices;
using DePin.Node;
using DePin.Settlement.Keys;
using DePin.Worker;
using Microsoft.Extensions.Logging;
using Nethereum.Signer;

namespace DePin.Cli;

public static partial class Cli
{
    /// <summary><c>depin node init|run|status</c>: contribute a GPU to the network as a community node.</summary>
    private static Command NodeCommand(CliContext context, GlobalOptions g)
    {
        var cmd = new Command("node", "Run a community GPU node: create its key (init), join and earn (run), see how it does (status)");
        cmd.Subcommands.Add(NodeInitCommand(context));
        cmd.Subcommands.Add(NodeRunCommand(context, g));
        cmd.Subcommands.Add(NodeStatusCommand(context, g));
        return cmd;
    }

    private static Option<string> NodeDirOption() => new("--dir")
    {
        Description = "Node identity directory (default: $DEPIN_NODE_HOME or ~/.depin/node)",
        DefaultValueFactory = _ => NodeIdentity.DefaultDirectory,
        HelpName = "path",
    };

    private static Option<string?> NodePasswordFileOption() => new("--password-file")
    {
        Description = $"File holding the keystore password (default: ${NodeIdentity.PasswordVariable}, else the password file init generated)",
        HelpName = "file",
    };

    private static Command NodeInitCommand(CliContext context)
    {
        var dir = NodeDirOption();
        var passwordFile = NodePasswordFileOption();
        var payout = new Option<string>("--payout") { Description = "Address your earnings are paid to", HelpName = "0x…", Required = true };
        var payoutKeyEnv = new Option<string?>("--payout-key-env")
        {
            Description = "Environment variable holding the payout address's private key, used once to sign \"this node earns for me\" (never stored)",
            HelpName = "VAR",
        };
        var devPayout = new Option<int?>("--dev-payout-account")
        {
            Description = "Sign the binding with anvil's PUBLIC well-known dev account N (0-2): local dev networks only",
            HelpName = "N",
        };
        var cmd = new Command("init", "Create this node's key (secp256k1, in an encrypted keystore) and bind it to your payout address")
        {
            dir, passwordFile, payout, payoutKeyEnv, devPayout,
        };
        cmd.Validators.Add(r =>
        {
            bool Given(Option o) => r.GetResult(o) is { Implicit: false };
            if (Given(payoutKeyEnv) == Given(devPayout))
                r.AddError("The payout binding must be signed with the payout key: pass exactly one of --payout-key-env VAR or --dev-payout-account N.");
            if (r.GetValue(devPayout) is { } n && n is < 0 or > 2)
                r.AddError($"--dev-payout-account must be 0, 1 or 2, not {n}.");
        });
        cmd.SetAction((ParseResult parse, CancellationToken _) =>
        {
            try
            {
                var payoutAddress = parse.GetValue(payout)!;
                if (!DePin.Abstractions.PayoutAddress.TryNormalize(payoutAddress, out var normalized))
                    throw new CliUserException($"'{payoutAddress}' is not a payout address (0x and 40 hex digits, not zero).");
                var key = PayoutKey(parse.GetValue(payoutKeyEnv), parse.GetValue(devPayout), context);
                if (!string.Equals(key.GetPublicAddress(), normalized, StringComparison.OrdinalIgnoreCase))
                    throw new CliUserException($"The payout key belongs to {key.GetPublicAddress()}, not to {normalized}.");
                var directory = parse.GetValue(dir)!;
                var (identity, generated) = NodeIdentity.Create(directory, normalized, key, null, ReadNodePassword(parse.GetValue(passwordFile), context));
                context.Out.WriteLine($"node      {identity.Address}");
                context.Out.WriteLine($"payout    {identity.Info.PayoutAddress}");
                context.Out.WriteLine($"identity  {Path.GetFullPath(directory)}");
                if (generated)
                    context.Error.WriteLine($"note: no password was given, so a random one was written to {Path.Combine(directory, "password")} (mode 0600). " +
                        $"On a shared machine pass --password-file or ${NodeIdentity.PasswordVariable} instead.");
                context.Out.WriteLine("next: depin node run --api <url>");
                return Task.FromResult(ExitOk);
            }
            catch (Exception ex) when (ex is CliUserException or InvalidOperationException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                context.Error.WriteLine($"error: {ex.Message}");
                return Task.FromResult(ExitError);
            }
        });
        return cmd;
    }

    private static Command NodeRunCommand(CliContext context, GlobalOptions g)
    {
        var dir = NodeDirOption();
        var passwordFile = NodePasswordFileOption();
        var cpuBackend = new Option<CpuBackend>("--cpu-backend") { Description = "CPU device backend when there is no GPU", DefaultValueFactory = _ => CpuBackend.Vectorized };
        var noGpus = new Option<bool>("--no-gpus") { Description = "Do not use CUDA/OpenCL GPUs (CPU device only)" };
        var noProbe = new Option<bool>("--no-probe") { Description = "Skip the start-up speed measurement" };
        // 256 = a new node's per-shard held cap: one full lease; small units make bigger batches pay (docs/benchmarks.md).
        var batch = new Option<int>("--batch-size") { Description = "Units leased per call", DefaultValueFactory = _ => 256 };
        batch.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 1024) r.AddError("--batch-size must be between 1 and 1024.");
        });
        var cmd = new Command("run", "Join the network through the API's node gateway and compute units until Ctrl+C (then finish and report what is held)")
        {
            dir, passwordFile, cpuBackend, noGpus, noProbe, batch,
        };
        SetClientAction(cmd, context, g, async run =>
        {
            var identity = LoadNodeIdentity(run.Get(dir)!, run.Get(passwordFile), context);
            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
            var agent = new NodeAgent(identity, new NodeAgentOptions
            {
                Api = run.Api,
                CpuBackend = run.Get(cpuBackend),
                EnableGpus = !run.Get(noGpus),
                ProbeOnStart = !run.Get(noProbe),
                Loop = new WorkerLoopOptions { BatchSize = run.Get(batch) },
            }, logs.CreateLogger("depin.node"));
            agent.Started += ids => run.Err.WriteLine($"node {identity.Address} joined {run.Api} with {string.Join(", ", ids)}; earning for {identity.Info.PayoutAddress}. Ctrl+C stops.");
            try
            {
                var units = await agent.RunAsync(run.CancellationToken);
                run.Err.WriteLine($"stopped after reporting {units.ToString(CultureInfo.InvariantCulture)} units");
                return ExitOk;
            }
            catch (NodeGatewayException ex)
            {
                run.Err.WriteLine($"error: the node gateway refused: {ex.Message}");
                return ExitError;
            }
            catch (OperationCanceledException) when (run.CancellationToken.IsCancellationRequested)
            {
                return ExitOk; // stopped before the login completed
            }
        });
        return cmd;
    }

    private static Command NodeStatusCommand(CliContext context, GlobalOptions g)
    {
        var dir = NodeDirOption();
        var passwordFile = NodePasswordFileOption();
        var cmd = new Command("status", "Show this node's devices as the network sees them (online, verified units, reputation) and its operator's earnings")
        {
            dir, passwordFile,
        };
        SetClientAction(cmd, context, g, async run =>
        {
            var identity = LoadNodeIdentity(run.Get(dir)!, run.Get(passwordFile), context);
            using var gateway = new NodeGatewayClient(run.Api, identity, []);
            JsonElement nodes;
            try
            {
                nodes = await gateway.StatusAsync(run.CancellationToken);
            }
            catch (NodeGatewayException ex)
            {
                run.Err.WriteLine($"error: the node gateway refused: {ex.Message}");
                return ExitError;
            }
            Client.AccountInfo? account = null;
            try
            {
                account = await run.Client.GetAccountAsync(identity.Info.PayoutAddress, run.CancellationToken);
            }
            catch (Client.DePinApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
            }
            if (run.Json)
            {
                run.Out.WriteLine(Format.Json(new { node = identity.Address, payout = identity.Info.PayoutAddress, devices = nodes, account }));
                return ExitOk;
            }
            run.Out.WriteLine($"node      {identity.Address}");
            run.Out.WriteLine($"payout    {identity.Info.PayoutAddress}");
            foreach (var n in nodes.EnumerateArray())
            {
                run.Out.WriteLine($"device    {n.GetProperty("nodeId").GetString()}  {(n.GetProperty("online").GetBoolean() ? "online" : "offline")}  " +
                    $"verified {n.GetProperty("unitsVerified").GetInt64()}  rejected {n.GetProperty("unitsRejected").GetInt64()}  " +
                    $"reputation {n.GetProperty("reputation").GetDouble().ToString("F2", CultureInfo.InvariantCulture)}");
            }
            run.Out.WriteLine(account is null ? "earned    nothing yet" : $"earned    {Format.Credits(account.CumulativeMicroCredits)} ({account.UnitsCredited} units)");
            return ExitOk;
        });
        return cmd;
    }

    private static EthECKey PayoutKey(string? variable, int? devAccount, CliContext context)
    {
        if (devAccount is { } n)
            return new EthECKey(n switch { 0 => DevChainKeys.Account0PrivateKey, 1 => DevChainKeys.Account1PrivateKey, _ => DevChainKeys.Account2PrivateKey });
        var value = context.GetEnvironmentVariable(variable!);
        if (string.IsNullOrWhiteSpace(value)) throw new CliUserException($"environment variable '{variable}' (--payout-key-env) is not set or empty.");
        try
        {
            return new EthECKey(value.Trim());
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or IndexOutOfRangeException)
        {
            throw new CliUserException($"environment variable '{variable}' does not hold a private key (32 bytes of hex).");
        }
    }

    private static string? ReadNodePassword(string? file, CliContext context)
    {
        if (file is not null)
        {
            var text = File.ReadAllText(file).Trim();
            return text.Length > 0 ? text : throw new CliUserException($"{file} is empty.");
        }
        return context.GetEnvironmentVariable(NodeIdentity.PasswordVariable) is { Length: > 0 } env ? env : null;
    }

    private static NodeIdentity LoadNodeIdentity(string directory, string? passwordFile, CliContext context)
    {
        try
        {
            return NodeIdentity.Load(directory, ReadNodePassword(passwordFile, context));
        }
        catch (InvalidOperationException ex)
        {
            throw new CliUserException(ex.Message);
        }
    }
}

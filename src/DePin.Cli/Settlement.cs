using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Numerics;
using DePin.Client;
using DePin.Settlement;
using DePin.Settlement.Contracts;
using DePin.Settlement.Keys;
using DePin.Settlement.Merkle;
using Nethereum.JsonRpc.Client;
using Nethereum.Web3;
using SettlementState = DePin.Client.SettlementState;

namespace DePin.Cli;

public static partial class Cli
{
    /// <summary>Chain id of a default anvil node: the only chain on which <c>--dev-account</c> is accepted.</summary>
    public const long DevChainId = DevChainKeys.AnvilChainId;

    /// <summary>Default receipt timeout of <c>depin claim</c>.</summary>
    public static readonly TimeSpan DefaultClaimTimeout = TimeSpan.FromMinutes(2);

    private static Command SettlementCommand(CliContext context, GlobalOptions g)
    {
        var cmd = new Command("settlement", "Show where closed epochs are settled (Off, a local dev chain, or an external chain)");
        SetClientAction(cmd, context, g, async run =>
        {
            var s = await run.Client.GetSettlementAsync(run.CancellationToken);
            if (run.Json) run.Out.WriteLine(Format.Json(s));
            else WriteSettlement(run.Out, s);
            return ExitOk;
        });
        return cmd;
    }

    internal static void WriteSettlement(TextWriter w, SettlementInfo s)
    {
        Format.WriteFields(w,
        [
            ("mode", s.Mode + (s.Enabled ? "" : " (epochs are recorded as NotSent; nothing is posted on chain)")),
            ("enabled", s.Enabled ? "yes" : "no"),
            ("chain id", s.ChainId is { } id ? id.ToString(CultureInfo.InvariantCulture) + (id == DevChainId ? " (local anvil dev chain)" : "") : null),
            ("rpc", s.RpcUrl),
            ("distributor", s.DistributorAddress),
            ("token", s.TokenAddress),
            ("settler", s.SettlerAddress),
            ("rate", s.Enabled ? $"{s.WeiPerMicroCredit} wei per micro-credit" : null),
        ]);
        if (!s.Enabled)
            w.WriteLine("hint: start the silo with Settlement:Mode=DevChain (env Settlement__Mode=DevChain) to settle epochs on a local anvil chain.");
    }

    private static Argument<string> AddressArgument() => new("address") { Description = "Operator EVM address (0x followed by 40 hex digits)" };

    private static Command StatementCommand(CliContext context, GlobalOptions g)
    {
        var address = AddressArgument();
        var cmd = new Command("statement", "Show an operator's earnings statement: every epoch that paid it, its settlement state and transaction") { address };
        SetClientAction(cmd, context, g, async run =>
        {
            var statement = await run.Client.GetStatementAsync(run.Get(address)!, run.CancellationToken);
            if (run.Json) run.Out.WriteLine(Format.Json(statement));
            else WriteStatement(run.Out, statement);
            return ExitOk;
        });
        return cmd;
    }

    internal static void WriteStatement(TextWriter w, StatementInfo s)
    {
        var confirmed = s.Epochs.Where(e => e.State == SettlementState.Confirmed).Select(e => (long?)e.CumulativeMicroCredits).FirstOrDefault();
        var fields = AccountFields(s.Account);
        fields.Add(("confirmed on chain", confirmed is { } c ? Format.Credits(c) : "-"));
        Format.WriteFields(w, fields);
        w.WriteLine();
        if (s.Epochs.Count == 0)
        {
            w.WriteLine("no closed epoch includes this account yet");
            return;
        }
        var table = new TextTable("EPOCH", "CLOSED", "DELTA", "CUMULATIVE", "STATE", "TRANSACTION").AlignRight(0, 2, 3);
        foreach (var e in s.Epochs)
            table.Add(e.Epoch.ToString(CultureInfo.InvariantCulture), Format.Time(e.ClosedAt), Format.Credits(e.DeltaMicroCredits),
                Format.Credits(e.CumulativeMicroCredits), e.State.ToString(), e.TransactionHash);
        table.Write(w);
    }

    private static Command ClaimCommand(CliContext context, GlobalOptions g)
    {
        var address = new Argument<string>("address") { Description = "Operator EVM address whose earnings are claimed (the tokens always go to this address)" };
        var rpc = new Option<string?>("--rpc") { Description = "Chain JSON-RPC URL (default: the rpcUrl the API reports with the proof)", HelpName = "url" };
        var keyEnv = new Option<string?>("--private-key-env") { Description = "Sign with the hex private key held in this environment variable", HelpName = "VAR" };
        var keystore = new Option<string?>("--keystore") { Description = "Sign with an encrypted Web3 keystore file (needs --password-file or --password-env)", HelpName = "path" };
        var passwordFile = new Option<string?>("--password-file") { Description = "With --keystore: file holding the keystore password", HelpName = "file" };
        var passwordEnv = new Option<string?>("--password-env") { Description = "With --keystore: environment variable holding the keystore password", HelpName = "VAR" };
        var devAccount = new Option<int?>("--dev-account")
        {
            Description = "Sign with anvil's PUBLIC well-known dev account N (0-2); only on the local dev chain (chain id 31337)",
            HelpName = "N",
        };
        var timeout = DurationOption("--timeout", DefaultClaimTimeout, "Give up waiting for the claim transaction's receipt after this long");
        var cmd = new Command("claim", "Claim an operator's settled earnings on chain: fetch the Merkle proof from the API and send claim() to the distributor")
        {
            address, rpc, keyEnv, keystore, passwordFile, passwordEnv, devAccount, timeout,
        };
        cmd.Validators.Add(r =>
        {
            bool Given(Option o) => r.GetResult(o) is { Implicit: false };
            int sources = (Given(keyEnv) ? 1 : 0) + (Given(keystore) ? 1 : 0) + (Given(devAccount) ? 1 : 0);
            if (sources == 0)
                r.AddError("A signing key is required: pass --private-key-env VAR, --keystore <path> with --password-file/--password-env, or --dev-account N (local dev chain only).");
            else if (sources > 1)
                r.AddError("Use only one of --private-key-env, --keystore and --dev-account.");
            if (Given(keystore) && Given(passwordFile) == Given(passwordEnv))
                r.AddError("--keystore needs exactly one of --password-file <file> or --password-env VAR.");
            if (!Given(keystore) && (Given(passwordFile) || Given(passwordEnv)))
                r.AddError("--password-file and --password-env only apply with --keystore.");
            if (r.GetValue(devAccount) is { } n && n is < 0 or > 2)
                r.AddError($"--dev-account must be 0, 1 or 2 (anvil's first well-known accounts), not {n}.");
        });
        SetClientAction(cmd, context, g, async run =>
        {
            var account = run.Get(address)!;
            var proof = await run.Client.GetProofAsync(account, run.CancellationToken);
            var keySource = new ClaimKeySource(run.Get(keyEnv), run.Get(keystore), run.Get(passwordFile), run.Get(passwordEnv), run.Get(devAccount));
            var key = ResolveClaimKey(keySource, proof.ChainId, run.Context);
            var outcome = await ClaimWithProofAsync(run, proof, key, run.Get(rpc), run.Get(timeout));
            if (run.Json) run.Out.WriteLine(Format.Json(outcome));
            else WriteClaim(run.Out, outcome);
            return ExitOk;
        });
        return cmd;
    }

    /// <summary>Where <c>depin claim</c> gets its signing key (exactly one source is set; the parser checks).</summary>
    internal sealed record ClaimKeySource(string? PrivateKeyEnvironment, string? Keystore, string? PasswordFile, string? PasswordEnvironment, int? DevAccount);

    /// <summary>Loads the signing key; refuses the public dev keys on any chain but the local anvil one.</summary>
    internal static SettlerKey ResolveClaimKey(ClaimKeySource source, long chainId, CliContext context)
    {
        if (source.DevAccount is { } n)
        {
            if (chainId != DevChainId)
                throw new CliUserException($"--dev-account {n} uses anvil's PUBLIC well-known key and is allowed only on the local dev chain (chain id {DevChainId}); " +
                    $"this account settles on chain {chainId}. Use --private-key-env VAR or --keystore <path> instead.");
            return SettlerKey.FromPrivateKey(n switch
            {
                0 => DevChainKeys.Account0PrivateKey,
                1 => DevChainKeys.Account1PrivateKey,
                2 => DevChainKeys.Account2PrivateKey,
                _ => throw new CliUserException($"--dev-account must be 0, 1 or 2, not {n}."),
            });
        }
        if (source.PrivateKeyEnvironment is { } variable)
        {
            var value = context.GetEnvironmentVariable(variable);
            if (string.IsNullOrWhiteSpace(value))
                throw new CliUserException($"environment variable '{variable}' (--private-key-env) is not set or empty.");
            try
            {
                return SettlerKey.FromPrivateKey(value);
            }
            catch (ArgumentException)
            {
                // Never echo the value: it may be (most of) a private key.
                throw new CliUserException($"environment variable '{variable}' does not hold a private key (32 bytes of hex, optionally 0x-prefixed).");
            }
        }
        if (source.Keystore is { } path)
        {
            try
            {
                return source.PasswordFile is { } file
                    ? SettlerKeySource.FromKeystoreWithPasswordFile(path, file)
                    : SettlerKeySource.FromKeystoreWithPasswordEnvironment(path, source.PasswordEnvironment!);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FileNotFoundException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                throw new CliUserException(ex.Message);
            }
        }
        throw new CliUserException("A signing key is required: pass --private-key-env, --keystore or --dev-account.");
    }

    /// <summary>What <c>depin claim</c> did (also its <c>--json</c> output).</summary>
    internal sealed record ClaimOutcome
    {
        public required string Account { get; init; }
        public required long Epoch { get; init; }
        public required bool Claimed { get; init; }
        public string? TransactionHash { get; init; }
        public required string AmountWei { get; init; }
        public required string AmountTokens { get; init; }
        public required string CumulativeAmountWei { get; init; }
        public required long CumulativeMicroCredits { get; init; }
        public string? BalanceWei { get; init; }
        public string? BalanceTokens { get; init; }
        public required string Sender { get; init; }
        public required string Distributor { get; init; }
        public string? Token { get; init; }
        public required long ChainId { get; init; }
        public required string RpcUrl { get; init; }
        public string? GasUsed { get; init; }
        public string? BlockNumber { get; init; }
        public string? Message { get; init; }
    }

    internal static void WriteClaim(TextWriter w, ClaimOutcome c)
    {
        if (!c.Claimed)
        {
            w.WriteLine(c.Message);
            if (c.BalanceTokens is not null) w.WriteLine($"token balance of {c.Account}: {c.BalanceTokens} tokens");
            return;
        }
        Format.WriteFields(w,
        [
            ("account", c.Account),
            ("epoch", c.Epoch.ToString(CultureInfo.InvariantCulture)),
            ("transaction", c.TransactionHash),
            ("claimed", $"{c.AmountTokens} tokens ({c.AmountWei} wei)"),
            ("cumulative", $"{Format.Tokens(BigInteger.Parse(c.CumulativeAmountWei, CultureInfo.InvariantCulture))} ({Format.Credits(c.CumulativeMicroCredits)})"),
            ("token balance", c.BalanceTokens is null ? "-" : c.BalanceTokens + " tokens"),
            ("block", c.BlockNumber),
            ("gas used", c.GasUsed),
            ("sent by", c.Sender),
        ]);
    }

    /// <summary>
    /// Sends <c>claim(account, cumulativeAmount, proof)</c> to the distributor named by <paramref name="proof"/>, unless
    /// nothing is claimable (no transaction then). Chain failures become <see cref="CliUnreachableException"/> (RPC unreachable)
    /// or <see cref="CliUserException"/> (wrong chain, revert).
    /// </summary>
    internal static async Task<ClaimOutcome> ClaimWithProofAsync(Invocation run, AccountProofInfo proof, SettlerKey key, string? rpcOverride, TimeSpan timeout)
    {
        var ct = run.CancellationToken;
        var rpc = string.IsNullOrWhiteSpace(rpcOverride) ? proof.RpcUrl : rpcOverride.Trim();
        if (string.IsNullOrWhiteSpace(rpc))
            throw new CliUserException("the API did not report the chain's RPC URL; pass --rpc <url>.");
        if (!Uri.TryCreate(rpc, UriKind.Absolute, out var rpcUri) || (rpcUri.Scheme != Uri.UriSchemeHttp && rpcUri.Scheme != Uri.UriSchemeHttps))
            throw new CliUserException($"'{rpc}' is not an http(s) URL for the chain RPC (--rpc).");
        if (string.IsNullOrWhiteSpace(proof.DistributorAddress))
            throw new CliUserException("the API did not report the distributor contract address; is settlement enabled (`depin settlement`)?");
        BigInteger cumulative;
        IReadOnlyList<byte[]> proofBytes;
        try
        {
            cumulative = proof.CumulativeAmount;
            proofBytes = proof.ProofBytes();
        }
        catch (FormatException ex)
        {
            throw new CliUserException($"the API returned an unusable proof: {ex.Message}");
        }

        var account = EthAddress.ToChecksum(proof.Address);
        var web3 = new Web3(rpc);
        var onChainId = await ChainCallAsync(rpc, ct, async () => (await web3.Eth.ChainId.SendRequestAsync()).Value);
        if (onChainId != proof.ChainId)
            throw new CliUserException($"the RPC at {rpc} serves chain {onChainId}, but the proof is for chain {proof.ChainId}; point --rpc at the right chain.");

        var client = new ClaimClient(rpc, proof.DistributorAddress, key, proof.ChainId, timeout);
        var claimable = await ChainCallAsync(rpc, ct, () => client.GetClaimableAsync(account, cumulative));
        async Task<BigInteger?> BalanceAsync() => proof.TokenAddress is { Length: > 0 } token
            ? await ChainCallAsync(rpc, ct, () => web3.Eth.GetContractQueryHandler<BalanceOfFunction>()
                .QueryAsync<BigInteger>(EthAddress.ToChecksum(token), new BalanceOfFunction { Account = account }))
            : null;

        var outcome = new ClaimOutcome
        {
            Account = account,
            Epoch = proof.Epoch,
            Claimed = false,
            AmountWei = "0",
            AmountTokens = "0",
            CumulativeAmountWei = cumulative.ToString(CultureInfo.InvariantCulture),
            CumulativeMicroCredits = proof.CumulativeMicroCredits,
            Sender = client.Sender,
            Distributor = EthAddress.ToChecksum(proof.DistributorAddress),
            Token = proof.TokenAddress,
            ChainId = proof.ChainId,
            RpcUrl = rpc,
        };
        if (claimable.IsZero)
        {
            var balance = await BalanceAsync();
            return outcome with
            {
                Message = $"nothing to claim (already claimed up to epoch {proof.Epoch.ToString(CultureInfo.InvariantCulture)})",
                BalanceWei = balance?.ToString(CultureInfo.InvariantCulture),
                BalanceTokens = balance is { } b ? Format.TokenAmount(b) : null,
            };
        }

        var result = await ChainCallAsync(rpc, ct, () => client.ClaimAsync(account, cumulative, proofBytes, ct));
        var after = await BalanceAsync();
        return outcome with
        {
            Claimed = true,
            TransactionHash = result.TxHash,
            AmountWei = result.Amount.ToString(CultureInfo.InvariantCulture),
            AmountTokens = Format.TokenAmount(result.Amount),
            BalanceWei = after?.ToString(CultureInfo.InvariantCulture),
            BalanceTokens = after is { } a ? Format.TokenAmount(a) : null,
            GasUsed = result.GasUsed.ToString(CultureInfo.InvariantCulture),
            BlockNumber = result.BlockNumber.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Runs one chain call, turning transport failures and reverts into one-line CLI errors.</summary>
    private static async Task<T> ChainCallAsync<T>(string rpc, CancellationToken ct, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is RpcClientTimeoutException or OperationCanceledException)
        {
            throw new CliUnreachableException($"the chain RPC at {rpc} did not answer in time.");
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw new CliUnreachableException($"cannot reach the chain RPC at {rpc} ({Reason(ex)}). Is the chain running? Pass --rpc <url> if the API's URL is not reachable from here.");
        }
        catch (RpcResponseException ex)
        {
            throw new CliUserException($"the chain at {rpc} refused the request: {ex.RpcError?.Message ?? ex.Message}");
        }
        catch (SettlementException ex)
        {
            throw new CliUserException(ex.Message);
        }
        catch (Exception ex) when (ex.GetType().Namespace?.StartsWith("Nethereum", StringComparison.Ordinal) == true)
        {
            throw new CliUserException($"the chain call failed: {ex.Message}");
        }
    }

    private static bool IsTransportFailure(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
            if (e is HttpRequestException or SocketException) return true;
        return false;
    }
}

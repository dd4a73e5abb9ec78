using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DePin.Client;

/// <summary>
/// Client of the DePin.Orleans HTTP API. Every non-success response throws <see cref="DePinApiException"/>
/// (401: no or an invalid API key, 403: the key's role may not do that); transport failures surface as
/// <see cref="HttpRequestException"/>. With an API key, every request carries <c>Authorization: Bearer &lt;key&gt;</c>.
/// </summary>
public sealed class DePinClient : IDisposable
{
    /// <summary>Default API address of a local silo.</summary>
    public static readonly Uri DefaultBaseAddress = new("http://127.0.0.1:5080/");

    /// <summary>Default polling interval of <see cref="WaitForCompletionAsync"/>.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(500);

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Uses <paramref name="http"/>, whose <see cref="HttpClient.BaseAddress"/> must be set. The client is not disposed by this instance.</summary>
    public DePinClient(HttpClient http) : this(http, apiKey: null)
    {
    }

    /// <summary>
    /// Uses <paramref name="http"/> (with a <see cref="HttpClient.BaseAddress"/>; not disposed by this instance) and sends
    /// <paramref name="apiKey"/> (<c>dpk_…</c>) with every request; null = no key (public endpoints only).
    /// </summary>
    public DePinClient(HttpClient http, string? apiKey)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (http.BaseAddress is null) throw new ArgumentException("The HttpClient must have a BaseAddress.", nameof(http));
        _http = http;
        BaseAddress = Normalize(http.BaseAddress);
        ApiKey = NormalizeKey(apiKey);
    }

    /// <summary>Creates and owns an <see cref="HttpClient"/> for <paramref name="baseAddress"/>.</summary>
    public DePinClient(Uri baseAddress) : this(baseAddress, apiKey: null)
    {
    }

    /// <summary>Creates and owns an <see cref="HttpClient"/> for <paramref name="baseAddress"/>, sending <paramref name="apiKey"/> with every request.</summary>
    public DePinClient(Uri baseAddress, string? apiKey)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        BaseAddress = Normalize(baseAddress);
        _http = new HttpClient { BaseAddress = BaseAddress };
        _ownsHttp = true;
        ApiKey = NormalizeKey(apiKey);
    }

    /// <summary>API root (always ends with '/').</summary>
    public Uri BaseAddress { get; }

    /// <summary>The API key sent as <c>Authorization: Bearer</c>, or null.</summary>
    public string? ApiKey { get; }

    private static string? NormalizeKey(string? apiKey)
    {
        if (string.IsNullOrWhiteSpace(apiKey)) return null;
        var key = apiKey.Trim();
        if (key.Any(c => c < 0x21 || c > 0x7e)) throw new ArgumentException("The API key contains characters that cannot be sent in a header.", nameof(apiKey));
        return key;
    }

    private static Uri Normalize(Uri address)
    {
        if (!address.IsAbsoluteUri) throw new ArgumentException($"'{address}' is not an absolute URL.", nameof(address));
        if (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps)
            throw new ArgumentException($"'{address}' is not an http(s) URL.", nameof(address));
        var s = address.GetLeftPart(UriPartial.Path);
        return new Uri(s.EndsWith('/') ? s : s + "/");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    // ---------------------------------------------------------------- jobs

    /// <summary>Submits a job (<c>POST /jobs</c>); 400 when refused, 429 when rate limited.</summary>
    /// <param name="kernel">Catalog kernel name, e.g. <c>saxpy</c>.</param>
    /// <param name="parameters">Kernel parameters; must be a JSON object.</param>
    /// <param name="options">Redundancy, priority, budget and node requirements.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<JobInfo> SubmitJobAsync(string kernel, JsonElement parameters, SubmitJobOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("jobs")) { Content = JobRequestContent(kernel, parameters, options) };
        if (options?.IdempotencyKey is { Length: > 0 } idempotencyKey) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await SendJsonAsync<JobInfo>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Prices a job and estimates its run time on every online node, without submitting it (<c>POST /jobs/quote</c>, same body as
    /// <see cref="SubmitJobAsync(string, JsonElement, SubmitJobOptions?, CancellationToken)"/>); 400 for a job that would be refused.
    /// </summary>
    public async Task<QuoteInfo> QuoteJobAsync(string kernel, JsonElement parameters, SubmitJobOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("jobs/quote")) { Content = JobRequestContent(kernel, parameters, options) };
        return await SendJsonAsync<QuoteInfo>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><see cref="QuoteJobAsync(string, JsonElement, SubmitJobOptions?, CancellationToken)"/> with parameters serialized from an object.</summary>
    public Task<QuoteInfo> QuoteJobAsync(string kernel, object parameters, SubmitJobOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return QuoteJobAsync(kernel, ToElement(parameters), options, cancellationToken);
    }

    private static ByteArrayContent JobRequestContent(string kernel, JsonElement parameters, SubmitJobOptions? options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kernel);
        if (parameters.ValueKind != JsonValueKind.Object)
            throw new ArgumentException("Kernel parameters must be a JSON object.", nameof(parameters));
        options ??= new SubmitJobOptions();

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("kernel", kernel);
            w.WritePropertyName("parameters");
            parameters.WriteTo(w);
            if (options.Redundancy is { } r) w.WriteNumber("redundancy", r);
            if (options.Priority is { } p) w.WriteNumber("priority", p);
            if (options.MaxPriceMicroCredits is { } m) w.WriteNumber("maxPriceMicroCredits", m);
            if (options.Requirements is { IsEmpty: false } req)
            {
                w.WriteStartObject("requirements");
                if (req.DeviceKinds.Count > 0)
                {
                    w.WriteStartArray("deviceKinds");
                    foreach (var kind in req.DeviceKinds) w.WriteStringValue(kind);
                    w.WriteEndArray();
                }
                if (req.MinMemoryBytes is { } mem) w.WriteNumber("minMemoryBytes", mem);
                if (req.MinGflops is { } gf) w.WriteNumber("minGflops", gf);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        var content = new ByteArrayContent(buffer.WrittenSpan.ToArray());
        content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
        return content;
    }

    private static JsonElement ToElement(object parameters) =>
        parameters is JsonElement e ? e : JsonSerializer.SerializeToElement(parameters, parameters.GetType(), DePinJson.Options);

    /// <summary>Submits a job whose parameters are serialized from <paramref name="parameters"/> (an anonymous object, a dictionary, a record...).</summary>
    public Task<JobInfo> SubmitJobAsync(string kernel, object parameters, SubmitJobOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return SubmitJobAsync(kernel, ToElement(parameters), options, cancellationToken);
    }

    /// <summary>Job status and progress (<c>GET /jobs/{id}</c>).</summary>
    public Task<JobInfo> GetJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        GetJsonAsync<JobInfo>("jobs/" + Escape(jobId), cancellationToken);

    /// <summary>Lists jobs, newest first (<c>GET /jobs</c>).</summary>
    public Task<IReadOnlyList<JobSummaryInfo>> ListJobsAsync(JobStatus? status = null, int offset = 0, int limit = 100, CancellationToken cancellationToken = default)
    {
        var query = string.Create(CultureInfo.InvariantCulture, $"jobs?offset={offset}&limit={limit}");
        if (status is { } s) query += "&status=" + s;
        return GetJsonAsync<IReadOnlyList<JobSummaryInfo>>(query, cancellationToken);
    }

    /// <summary>Cancels a job (<c>POST /jobs/{id}/cancel</c>); 409 when it already finished.</summary>
    public async Task<JobInfo> CancelJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("jobs/" + Escape(jobId) + "/cancel"));
        return await SendJsonAsync<JobInfo>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Polls <see cref="GetJobAsync"/> until the job is Completed, Failed or Cancelled and returns its last state.
    /// <paramref name="progress"/> gets the first state and every state whose status or completed-unit count changed.
    /// </summary>
    /// <exception cref="TimeoutException">The job did not finish within <paramref name="timeout"/>.</exception>
    public async Task<JobInfo> WaitForCompletionAsync(string jobId, IProgress<JobInfo>? progress = null, TimeSpan? pollInterval = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var interval = pollInterval ?? DefaultPollInterval;
        if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(pollInterval), "The poll interval must be positive.");
        var deadline = timeout is { } t ? DateTimeOffset.UtcNow + t : DateTimeOffset.MaxValue;
        JobInfo? last = null;
        while (true)
        {
            var job = await GetJobAsync(jobId, cancellationToken).ConfigureAwait(false);
            if (last is null || last.Status != job.Status || last.UnitsCompleted != job.UnitsCompleted)
                progress?.Report(job);
            last = job;
            if (job.Status.IsTerminal()) return job;
            var remaining = deadline - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
                throw new TimeoutException($"Job '{jobId}' is still {job.Status} ({job.UnitsCompleted}/{job.UnitCount} units) after {timeout}.");
            await Task.Delay(remaining < interval ? remaining : interval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Downloads a completed job's result (<c>GET /jobs/{id}/result</c>) and verifies its SHA-256 against <c>X-Result-Digest</c>.
    /// </summary>
    /// <exception cref="ResultDigestMismatchException">The bytes do not match the announced digest.</exception>
    public async Task<JobResultData> GetResultAsync(string jobId, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url("jobs/" + Escape(jobId) + "/result"));
        using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var contentType = response.Content.Headers.ContentType?.ToString() ?? "application/octet-stream";
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!response.Headers.TryGetValues("X-Result-Digest", out var values) || values.FirstOrDefault() is not { Length: > 0 } expected)
            throw new ResultDigestMismatchException(jobId, "(none: the X-Result-Digest header is missing)", actual);
        if (!string.Equals(expected.Trim(), actual, StringComparison.OrdinalIgnoreCase))
            throw new ResultDigestMismatchException(jobId, expected.Trim(), actual);
        return new JobResultData(contentType, bytes, actual);
    }

    // ---------------------------------------------------------------- catalog, nodes, rewards

    /// <summary>The kernel catalog (<c>GET /kernels</c>).</summary>
    public Task<IReadOnlyList<KernelDescriptor>> ListKernelsAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync<IReadOnlyList<KernelDescriptor>>("kernels", cancellationToken);

    /// <summary>Registered nodes (<c>GET /nodes</c>).</summary>
    public Task<IReadOnlyList<NodeInfo>> ListNodesAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync<IReadOnlyList<NodeInfo>>("nodes", cancellationToken);

    /// <summary>One node (<c>GET /nodes/{id}</c>).</summary>
    /// <remarks>
    /// Node ids hold a slash (<c>{node}/{device}</c>) and the route takes the rest of the path, so each segment is escaped on its
    /// own: an escaped slash (<c>%2F</c>) would reach the server undecoded and name no node.
    /// </remarks>
    public Task<NodeInfo> GetNodeAsync(string nodeId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeId);
        return GetJsonAsync<NodeInfo>("nodes/" + string.Join('/', nodeId.Split('/').Select(Uri.EscapeDataString)), cancellationToken);
    }

    /// <summary>An operator's earnings (<c>GET /accounts/{address}</c>); 400 for a malformed address, 404 when nothing was credited.</summary>
    public Task<AccountInfo> GetAccountAsync(string address, CancellationToken cancellationToken = default) =>
        GetJsonAsync<AccountInfo>("accounts/" + Escape(address), cancellationToken);

    /// <summary>Closed epochs (<c>GET /epochs</c>).</summary>
    public Task<IReadOnlyList<EpochInfo>> ListEpochsAsync(int offset = 0, int limit = 50, CancellationToken cancellationToken = default) =>
        GetJsonAsync<IReadOnlyList<EpochInfo>>(string.Create(CultureInfo.InvariantCulture, $"epochs?offset={offset}&limit={limit}"), cancellationToken);

    /// <summary>One closed epoch (<c>GET /epochs/{n}</c>).</summary>
    public Task<EpochInfo> GetEpochAsync(long epoch, CancellationToken cancellationToken = default) =>
        GetJsonAsync<EpochInfo>(string.Create(CultureInfo.InvariantCulture, $"epochs/{epoch}"), cancellationToken);

    /// <summary>Closes the open epoch (<c>POST /epochs/close</c>); null when there was nothing to close (204).</summary>
    public async Task<EpochInfo?> CloseEpochAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("epochs/close"));
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NoContent) return null;
        return await ReadJsonAsync<EpochInfo>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Polls <see cref="GetEpochAsync"/> until the epoch's settlement is <see cref="SettlementState.Confirmed"/> on chain and returns it.
    /// An <see cref="SettlementState.Empty"/> epoch (nothing to settle) is returned at once, as no transaction will ever confirm it.
    /// <paramref name="progress"/> gets the first state and every change of state or transaction hash.
    /// </summary>
    /// <exception cref="TimeoutException">The epoch was not confirmed within <paramref name="timeout"/>.</exception>
    public async Task<EpochInfo> WaitForEpochSettledAsync(long epoch, TimeSpan timeout, IProgress<EpochInfo>? progress = null,
        TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        var interval = pollInterval ?? DefaultPollInterval;
        if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(pollInterval), "The poll interval must be positive.");
        if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), "The timeout must not be negative.");
        var deadline = DateTimeOffset.UtcNow + timeout;
        EpochInfo? last = null;
        while (true)
        {
            var e = await GetEpochAsync(epoch, cancellationToken).ConfigureAwait(false);
            if (last is null || last.State != e.State || last.TransactionHash != e.TransactionHash) progress?.Report(e);
            last = e;
            if (e.State is SettlementState.Confirmed or SettlementState.Empty) return e;
            var remaining = deadline - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
                throw new TimeoutException(e.State == SettlementState.NotSent
                    ? $"Epoch {epoch} is still NotSent after {timeout}: no settlement transaction was sent (is settlement enabled? see GET /settlement)."
                    : $"Epoch {epoch} is still {e.State} (tx {e.TransactionHash ?? "-"}) after {timeout}.");
            await Task.Delay(remaining < interval ? remaining : interval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Where epochs are settled (<c>GET /settlement</c>).</summary>
    public Task<SettlementInfo> GetSettlementAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync<SettlementInfo>("settlement", cancellationToken);

    /// <summary>
    /// The latest on-chain cumulative amount and Merkle proof of an account, for claiming (<c>GET /accounts/{address}/proof</c>):
    /// 400 for a malformed address, 404 when the account is in no epoch confirmed on chain, 409 when settlement is off.
    /// </summary>
    public Task<AccountProofInfo> GetProofAsync(string address, CancellationToken cancellationToken = default) =>
        GetJsonAsync<AccountProofInfo>("accounts/" + Escape(address) + "/proof", cancellationToken);

    /// <summary>An operator's earnings statement, epochs newest first (<c>GET /accounts/{address}/statement</c>); 400 malformed, 404 unknown.</summary>
    public Task<StatementInfo> GetStatementAsync(string address, CancellationToken cancellationToken = default) =>
        GetJsonAsync<StatementInfo>("accounts/" + Escape(address) + "/statement", cancellationToken);

    /// <summary>True when <c>GET /health</c> answers 200. Transport errors propagate.</summary>
    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url("health"));
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.OK;
    }

    // ---------------------------------------------------------------- API keys (admin)

    /// <summary>Creates an API key (<c>POST /keys</c>, admin); the returned <see cref="CreatedApiKeyInfo.Key"/> is shown this once. 409 when the key store is full.</summary>
    /// <param name="role"><c>client</c> or <c>admin</c>.</param>
    /// <param name="name">A label: who or what uses the key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<CreatedApiKeyInfo> CreateApiKeyAsync(string role, string? name = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(role);
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("keys")) { Content = JsonContent.Create(new { role, name }, options: DePinJson.Options) };
        return await SendJsonAsync<CreatedApiKeyInfo>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>API keys, newest first (<c>GET /keys</c>, admin).</summary>
    public Task<IReadOnlyList<ApiKeyDescriptor>> ListApiKeysAsync(int offset = 0, int limit = 1000, CancellationToken cancellationToken = default) =>
        GetJsonAsync<IReadOnlyList<ApiKeyDescriptor>>(string.Create(CultureInfo.InvariantCulture, $"keys?offset={offset}&limit={limit}"), cancellationToken);

    /// <summary>Revokes an API key by its public id (<c>POST /keys/{id}/revoke</c>, admin); 404 unknown, 409 for the last admin key.</summary>
    public async Task<ApiKeyDescriptor> RevokeApiKeyAsync(string keyId, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("keys/" + Escape(keyId) + "/revoke"));
        return await SendJsonAsync<ApiKeyDescriptor>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Excludes a node from the network (<c>POST /node-exclusions</c>, admin key): it can no longer log in, lease, report or renew.</summary>
    public async Task<NodeInfo> ExcludeNodeAsync(string nodeId, string reason, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("node-exclusions")) { Content = JsonContent.Create(new { nodeId, reason }, options: DePinJson.Options) };
        return await SendJsonAsync<NodeInfo>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Admits an excluded node again (<c>POST /node-exclusions/readmit</c>, admin key).</summary>
    public async Task<NodeInfo> ReadmitNodeAsync(string nodeId, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("node-exclusions/readmit")) { Content = JsonContent.Create(new { nodeId }, options: DePinJson.Options) };
        return await SendJsonAsync<NodeInfo>(request, cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- plumbing

    private Uri Url(string relative) => new(BaseAddress, relative);

    private static string Escape(string segment)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(segment);
        return Uri.EscapeDataString(segment);
    }

    private async Task<T> GetJsonAsync<T>(string relative, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url(relative));
        return await SendJsonAsync<T>(request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> SendJsonAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await ReadJsonAsync<T>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every request goes out here, with the API key.</summary>
    private Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        if (ApiKey is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ApiKey);
        return _http.SendAsync(request, completion, cancellationToken);
    }

    private static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(DePinJson.Options, cancellationToken).ConfigureAwait(false)
                ?? throw new JsonException("The response body is null.");
        }
        catch (JsonException ex)
        {
            throw new DePinApiException(response.StatusCode, "Unexpected response", $"The server's response could not be read as {typeof(T).Name}: {ex.Message}");
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        throw ParseProblem(response.StatusCode, response.ReasonPhrase, response.Content.Headers.ContentType?.MediaType, body);
    }

    /// <summary>Builds the exception for an error response: RFC 7807 title/detail when the body is a problem, else the reason phrase and a text excerpt.</summary>
    public static DePinApiException ParseProblem(HttpStatusCode status, string? reasonPhrase, string? mediaType, string? body)
    {
        string fallbackTitle = string.IsNullOrWhiteSpace(reasonPhrase) ? $"HTTP {(int)status}" : reasonPhrase!;
        if (!string.IsNullOrWhiteSpace(body) && (mediaType is null || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)))
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    string? title = GetString(doc.RootElement, "title");
                    string? detail = GetString(doc.RootElement, "detail");
                    if (title is not null || detail is not null)
                        return new DePinApiException(status, title ?? fallbackTitle, detail);
                }
            }
            catch (JsonException)
            {
                // Not JSON after all: fall through to the text excerpt.
            }
        }
        string? excerpt = string.IsNullOrWhiteSpace(body) ? null : Truncate(body.Trim(), 300);
        return new DePinApiException(status, fallbackTitle, excerpt);
    }

    private static string? GetString(JsonElement obj, string name)
    {
        foreach (var p in obj.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == JsonValueKind.String)
                return p.Value.GetString();
        return null;
    }

    private static string Truncate(string s, int max)
    {
        if (s.Length <= max) return s;
        var sb = new StringBuilder(s, 0, max, max + 1);
        sb.Append('…');
        return sb.ToString();
    }
}

using DePin.Abstractions.Clients;
using Microsoft.Extensions.Options;

namespace DePin.Silo.Api.Auth;

/// <summary>
/// At the start of an API silo (after the Orleans silo, before Kestrel): registers <c>Auth:AdminKey</c> when set
/// (idempotent), and, when no admin key is active and <c>Auth:BootstrapKeys</c> is on, makes sure an admin key and a
/// client key exist and sit in <c>Auth:KeysDirectory</c> (<c>admin.key</c>, <c>client.key</c>, mode 0600). Keys already in
/// those files are registered again rather than replaced (the embedded default's memory storage forgets them on every
/// restart), unless they were revoked. Logs the directory, never a key.
/// </summary>
internal sealed partial class ApiKeyBootstrap(
    IGrainFactory grains,
    IOptions<DePinAuthOptions> options,
    TimeProvider clock,
    ILogger<ApiKeyBootstrap> logger) : IHostedService
{
    /// <summary>File name of the bootstrap admin key.</summary>
    public const string AdminKeyFile = "admin.key";

    /// <summary>File name of the bootstrap client key.</summary>
    public const string ClientKeyFile = "client.key";

    private IApiKeyDirectoryGrain Directory => grains.GetGrain<IApiKeyDirectoryGrain>(0);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!string.IsNullOrWhiteSpace(o.AdminKey) && ApiKeyFormat.TryParse(o.AdminKey, out var keyId, out var hash))
        {
            var info = new ApiKeyInfo { KeyId = keyId, Role = ApiKeyRole.Admin, Name = "Auth:AdminKey", CreatedAt = clock.GetUtcNow() };
            var outcome = await Directory.CreateAsync(new ApiKeyCredential(info, hash));
            if (outcome.Status == ApiKeyCreateStatus.Created) LogAdminKeyRegistered(keyId);
            else if (outcome.Status is ApiKeyCreateStatus.Conflict or ApiKeyCreateStatus.Full) LogAdminKeyRefused(keyId, outcome.Error);
        }
        if (!o.BootstrapKeys || await Directory.HasActiveAdminAsync()) return;

        var directory = Path.GetFullPath(o.KeysDirectory);
        CreateDirectory(directory);
        await EnsureKeyFileAsync(Path.Combine(directory, AdminKeyFile), ApiKeyRole.Admin, "bootstrap admin", cancellationToken);
        await EnsureKeyFileAsync(Path.Combine(directory, ClientKeyFile), ApiKeyRole.Client, "bootstrap client", cancellationToken);
        LogBootstrapped(directory);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task EnsureKeyFileAsync(string path, ApiKeyRole role, string name, CancellationToken cancellationToken)
    {
        if (File.Exists(path) && ApiKeyFormat.TryParse(await File.ReadAllTextAsync(path, cancellationToken), out var keyId, out var hash))
        {
            var info = new ApiKeyInfo { KeyId = keyId, Role = role, Name = name, CreatedAt = clock.GetUtcNow() };
            if ((await Directory.CreateAsync(new ApiKeyCredential(info, hash))).Status is ApiKeyCreateStatus.Created or ApiKeyCreateStatus.AlreadyRegistered)
                return;
        }
        for (var attempt = 0; ; attempt++)
        {
            var (key, credential) = ApiKeyFormat.Generate(role, name, clock.GetUtcNow());
            var outcome = await Directory.CreateAsync(credential);
            if (outcome.Status == ApiKeyCreateStatus.Created)
            {
                WriteOwnerOnly(path, key + "\n");
                return;
            }
            if (outcome.Status != ApiKeyCreateStatus.Conflict || attempt > 2)
                throw new InvalidOperationException($"cannot create the bootstrap {role} key: {outcome.Error}");
        }
    }

    private static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(path);
        else System.IO.Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Writes a file readable by its owner only (0600), replacing any file there atomically.</summary>
    internal static void WriteOwnerOnly(string path, string text)
    {
        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, fileOptions))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
        }
        File.Move(temporary, path, overwrite: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered the admin key of Auth:AdminKey (key id {KeyId})")]
    private partial void LogAdminKeyRegistered(string keyId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Auth:AdminKey (key id {KeyId}) was not registered and will not be accepted: {Reason}")]
    private partial void LogAdminKeyRefused(string keyId, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No admin API key was active: bootstrap keys are in {Directory} (admin.key, client.key; readable by this user only). The CLI finds them there; set Auth:BootstrapKeys=false and Auth:AdminKey in production")]
    private partial void LogBootstrapped(string directory);
}

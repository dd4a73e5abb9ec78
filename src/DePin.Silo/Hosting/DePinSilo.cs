using System.Net;
using DePin.Abstractions.Rewards;
using DePin.Grains;
using DePin.Grains.Jobs;
using DePin.Grains.Nodes;
using DePin.Grains.Rewards;
using DePin.Grains.Scheduling;
using DePin.Grains.Settlement;
using DePin.Silo.Settlement;
using DePin.Silo.Api;
using DePin.Silo.Leasing;
using DePin.Silo.NodeGateway;
using DePin.Worker;
using DePin.Silo.Api.Auth;
using DePin.Silo.Workers;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Placement;
using OpenTelemetry.Metrics;
using Orleans.Storage;

namespace DePin.Silo.Hosting;

/// <summary>
/// Builds the one host program: an Orleans silo plus, by role, the HTTP job API and the GPU workers.
/// Embedded default (nothing configured): localhost clustering and in-memory storage on 127.0.0.1.
/// Production (<c>Silo:Redis</c> set): Redis membership, grain storage and reminders.
/// </summary>
public static class DePinSilo
{
    /// <summary>Creates the application from command-line arguments, appsettings and DEPIN_-prefixed environment variables.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddEnvironmentVariables("DEPIN_");
        configure?.Invoke(builder);

        var silo = builder.Configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
        var faults = builder.Configuration.GetSection(FaultInjectionOptions.Section).Get<FaultInjectionOptions>() ?? new FaultInjectionOptions();
        if (faults.Problem(builder.Environment.EnvironmentName, silo.UsesRedis) is { } faultProblem) throw new SiloStartupException(faultProblem);
        builder.Services.AddOptions<SiloOptions>().BindConfiguration(SiloOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<SchedulerOptions>().BindConfiguration(SchedulerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<LedgerOptions>().BindConfiguration(LedgerOptions.Section);
        builder.Services.AddOptions<NodeRetentionOptions>().BindConfiguration(NodeRetentionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<SettlementHostOptions>().BindConfiguration(SettlementHostOptions.Section);
        builder.Services.AddSingleton<SettlementGateway>();
        // Before the silo: the chain is ready when the first epoch closes, and it stops after the silo.
        builder.Services.AddSingleton<SettlementSetup>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SettlementSetup>());

        builder.UseOrleans(orleans =>
        {
            if (silo.UsesRedis)
            {
                RedisBackend.Configure(orleans, silo, faults);
            }
            else
            {
                orleans.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort, serviceId: silo.ServiceId, clusterId: silo.ClusterId);
                orleans.AddMemoryGrainStorage(StorageNames.Store);
                orleans.UseInMemoryReminderService();
                orleans.Services.AddSingleton<IWorkUnitStore, MemoryWorkUnitStore>();
                orleans.Services.AddSingleton<IJobOutputStore, MemoryJobOutputStore>();
                orleans.Services.AddSingleton<IJobIndexStore, MemoryJobIndexStore>();
                orleans.Services.AddSingleton<IEpochStore, MemoryEpochStore>();
            }
            // Ledger and settlement grains go to silos that can settle (SettlerSiloPlacementFilter).
            var settlementOptions = builder.Configuration.GetSection(SettlementHostOptions.Section).Get<SettlementHostOptions>() ?? new SettlementHostOptions();
            var settles = SettlementSetup.CanSettle(settlementOptions);
            orleans.UseSiloMetadata(new Dictionary<string, string> { [SettlerSiloPlacementFilterDirector.MetadataKey] = settles ? "true" : "false" });
            orleans.Services.AddPlacementFilter<SettlerSiloPlacementFilterStrategy, SettlerSiloPlacementFilterDirector>(ServiceLifetime.Singleton);
            orleans.Services.AddSingleton<SettlerSilos>();
            orleans.Configure<EndpointOptions>(o =>
            {
                o.AdvertisedIPAddress = IPAddress.Parse(silo.AdvertisedIp);
                o.SiloPort = silo.SiloPort;
                o.GatewayPort = silo.GatewayPort;
            });
            // Grain state in Orleans' binary format: the default JSON serializer dominated CPU time (base64 of outputs).
            orleans.Services.AddSingleton<IGrainStorageSerializer>(sp => new OrleansGrainStorageSerializer(sp.GetRequiredService<Orleans.Serialization.Serializer>()));
            // Wakes the ledger (its epoch timer and reminder). Never fatal: a storage hiccup while the ledger loads must not
            // stop the silo, so it is retried in the background until it succeeds or the silo stops.
            orleans.AddStartupTask((services, cancellation) =>
            {
                var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
                var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("DePin.Silo.Ledger");
                _ = Task.Run(async () =>
                {
                    for (var attempt = 1; !lifetime.ApplicationStopping.IsCancellationRequested; attempt++)
                    {
                        try
                        {
                            await services.GetRequiredService<IGrainFactory>().GetGrain<ILedgerGrain>(0).StartAsync();
                            return;
                        }
                        catch (Exception ex)
                        {
                            log.LogWarning(ex, "Starting the ledger failed (attempt {Attempt}); retrying", attempt);
                            await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt * 2)), lifetime.ApplicationStopping).ContinueWith(_ => { }, TaskScheduler.Default);
                        }
                    }
                }, CancellationToken.None);
                return Task.CompletedTask;
            });
        });

        // Long-poll leasing for this silo's workers and the node gateway.
        builder.Services.AddSingleton<LeaseBroker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LeaseBroker>());
        if (silo.HasGpuRole)
        {
            builder.Services.AddSingleton<NodeWorkerService>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeWorkerService>());
        }

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ApiExceptionProblems>();
        builder.Services.AddOpenApi(DePinOpenApi.Configure);
        builder.Services.AddHealthChecks();
        builder.Services.AddDePinAuthentication(builder.Configuration);
        if (silo.HasApiRole) builder.Services.AddApiKeyBootstrap(); // after UseOrleans: runs once the silo is up
        builder.Services.AddApiForwardedHeaders(builder.Configuration);
        builder.Services.AddJobApiRateLimiting(builder.Configuration);
        builder.Services.AddNodeGateway();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(SchedulerMetrics.MeterName, "Microsoft.Orleans")
            .AddPrometheusExporter());
        builder.Services.ConfigureHttpJsonOptions(o => DePinApi.ConfigureJson(o.SerializerOptions));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize =
            builder.Configuration.GetValue("Api:MaxRequestBytes", DePinApi.DefaultMaxRequestBytes));
        if (!builder.Configuration.GetSection("urls").Exists() && !builder.Configuration.GetSection("Kestrel").Exists()
            && Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is null)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:5080");
        }

        var app = builder.Build();
        app.UseForwardedHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages(ApiExceptionProblems.WriteStatusCodePageAsync);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.Use(ApiExceptionProblems.RefuseUnknownCharsetsAsync); // after auth: a stranger learns nothing from a 415
        app.MapHealthChecks("/health").AllowAnonymous();
        app.MapPrometheusScrapingEndpoint().RequireAuthorization(DePinAuthentication.AdminPolicy); // GET /metrics
        if (silo.HasApiRole)
        {
            app.MapOpenApi().AllowAnonymous();
            app.MapDePinApi();
            app.MapNodeGateway();
        }
        return app;
    }
}

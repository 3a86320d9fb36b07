package dev.modelgate.kernel;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@code --watch}: reloads when the configuration file or the plugins folder changes. Changes are debounced (an
 * editor's save, a jar being copied, a ConfigMap's symlink swap are several events): the reload runs once nothing
 * changed for {@link #QUIET}. The folder of the configuration file is watched, not the file, so that a file replaced
 * by a rename (editors, Kubernetes' {@code ..data} swap) is still seen.
 */
final class ConfigWatcher implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ConfigWatcher.class.getName());
    static final Duration QUIET = Duration.ofMillis(300);

    private final WatchService service;
    private final Path configDir;
    private final Path configName;
    private final Path pluginsDir;
    private final Runnable reload;

    private ConfigWatcher(WatchService service, Path configFile, Path pluginsDir, Runnable reload) {
        this.service = service;
        this.configDir = configFile == null ? null : configFile.toAbsolutePath().getParent();
        this.configName = configFile == null ? null : configFile.getFileName();
        this.pluginsDir = pluginsDir == null ? null : pluginsDir.toAbsolutePath();
        this.reload = reload;
    }

    /** Watches the configuration file and the plugins folder (those that exist) and calls {@code reload}. */
    static ConfigWatcher start(CommandLine commandLine, Runnable reload) throws IOException {
        WatchService service = FileSystems.getDefault().newWatchService();
        ConfigWatcher watcher = new ConfigWatcher(service, commandLine.effectiveConfigFile(),
                commandLine.pluginsDir(), reload);
        try {
            for (Path dir : new Path[] {watcher.configDir, watcher.pluginsDir}) {
                if (dir != null && Files.isDirectory(dir)) {
                    dir.register(service, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                            StandardWatchEventKinds.ENTRY_DELETE);
                }
            }
        } catch (IOException e) {
            service.close();
            throw e;
        }
        Thread.ofPlatform().daemon().name("modelgate-watch").start(watcher::run);
        LOG.log(System.Logger.Level.INFO, "watching " + (watcher.configDir == null ? "" : watcher.configDir
                .resolve(watcher.configName) + " and ") + watcher.pluginsDir + " for changes");
        return watcher;
    }

    private void run() {
        try {
            while (true) {
                if (relevant(service.take())) {
                    awaitQuiet();
                    reload.run();
                }
            }
        } catch (ClosedWatchServiceException | InterruptedException e) {
            // closed: the gateway stops
        }
    }

    /** Returns once no relevant change came for {@link #QUIET}. */
    private void awaitQuiet() throws InterruptedException {
        WatchKey next;
        while ((next = service.poll(QUIET.toMillis(), TimeUnit.MILLISECONDS)) != null) {
            relevant(next);
        }
    }

    /** Whether {@code key}'s events touch the configuration file or the plugins folder; resets the key. */
    private boolean relevant(WatchKey key) {
        Path dir = (Path) key.watchable();
        boolean relevant = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            Object name = event.context();
            relevant |= event.kind() == StandardWatchEventKinds.OVERFLOW
                    || dir.equals(pluginsDir)
                    || dir.equals(configDir) && (name.equals(configName) || name.toString().startsWith(".."));
        }
        key.reset();
        return relevant;
    }

    @Override
    public void close() {
        try {
            service.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the watch service failed", e);
        }
    }
}

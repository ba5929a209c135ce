package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"gopkg.in/yaml.v3"
)

// defaultServerURL is the server client commands talk to when neither
// --url, JIT_URL nor `jit login` named one: the address of `jit dev`.
const defaultServerURL = "http://127.0.0.1:8080"

// userConfig is the client's own settings file, config.yaml in
// configDir: what `jit login` remembers so later commands need no flags.
type userConfig struct {
	// URL is the JIT server of the last `jit login`.
	URL string `yaml:"url"`
}

// configDir is where the client keeps its settings (and, without a
// keyring, its sign-in): $XDG_CONFIG_HOME/jit, else ~/.config/jit (on
// Windows, the user's AppData).
func configDir() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "jit"), nil
	}
	if runtime.GOOS == "windows" {
		d, err := os.UserConfigDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(d, "jit"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the jit settings: %w", err)
	}
	return filepath.Join(home, ".config", "jit"), nil
}

// userConfigPath is config.yaml in configDir.
func userConfigPath() (string, error) {
	dir, err := configDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "config.yaml"), nil
}

// loadUserConfig reads config.yaml; a missing file is the zero config.
func loadUserConfig() (userConfig, error) {
	var c userConfig
	path, err := userConfigPath()
	if err != nil {
		return c, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// saveUserConfig writes config.yaml readable by the user only.
func saveUserConfig(c userConfig) error {
	path, err := userConfigPath()
	if err != nil {
		return err
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	return writePrivateFile(path, b)
}

// serverURLDefault is the default of every client command's --url:
// JIT_URL, else the server of the last `jit login`, else defaultServerURL.
func serverURLDefault() string {
	if v := os.Getenv("JIT_URL"); v != "" {
		return v
	}
	if c, err := loadUserConfig(); err == nil && c.URL != "" {
		return c.URL
	}
	return defaultServerURL
}

// writePrivateFile replaces path atomically with data readable and
// writable by the user only (writeFileMode).
func writePrivateFile(path string, data []byte) error {
	return writeFileMode(path, data, 0o600)
}

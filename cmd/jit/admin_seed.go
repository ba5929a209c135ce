package main

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/redisstore"
)

// seed returns the registry seed of the config, normalized.
func (c *Config) seed() broker.RegistryData {
	r := c.Registry.Clone()
	broker.NormalizeRegistry(&r)
	return r
}

// checkSeed validates the seed the way an apply would, naming the field
// under registry.
func checkSeed(r broker.RegistryData) error {
	if reflect.DeepEqual(r, broker.RegistryData{}) {
		return nil
	}
	if err := broker.CheckRegistry(r); err != nil {
		return fmt.Errorf("registry.%s", broker.ErrorMessage(err))
	}
	return nil
}

// seedRegistry stores the config's seed when Redis holds no registry yet,
// and returns the registry in force. Once a registry is stored, the config's
// registry sections are ignored: `jit admin apply` changes it.
func seedRegistry(ctx context.Context, reg *redisstore.Registry, seed broker.RegistryData, logger *slog.Logger) (broker.RegistryData, error) {
	_, v, err := reg.Registry(ctx)
	if err != nil {
		return broker.RegistryData{}, err
	}
	if v == 0 {
		if reflect.DeepEqual(seed, broker.RegistryData{}) {
			logger.Warn("no registry in Redis and no registry section in the config: nobody administers JIT until a seed is given")
		} else if seeded, err := reg.Seed(ctx, seed); err != nil {
			return broker.RegistryData{}, fmt.Errorf("seed registry: %w", err)
		} else if seeded {
			logger.Info("registry seeded from the config file")
		}
	} else {
		logger.Debug("registry in Redis; the config's registry section is ignored", "version", v)
	}
	r, _, err := reg.Registry(ctx)
	return r, err
}

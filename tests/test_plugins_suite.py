"""Every shipped plugin passes the reusable plugin test suite (marketsim.testing)."""

from __future__ import annotations

import pytest

from marketsim.testing import PluginCase, PluginTestSuite


class TestBassAdoption(PluginTestSuite):
    @pytest.fixture
    def plugin_case(self):
        return PluginCase("bass_adoption", {"p": 0.02, "q": 0.4, "segments": ["young", "crowd"]})


class TestThresholdContagion(PluginTestSuite):
    @pytest.fixture
    def plugin_case(self):
        return PluginCase("threshold_contagion", {"threshold": 0.2, "spread": 0.15, "below": 0.5})


class TestReferencePrice(PluginTestSuite):
    @pytest.fixture
    def plugin_case(self):
        return PluginCase("reference_price", {"adaptation": 0.4, "loss": 3.0})


class TestNegativeWordOfMouth(PluginTestSuite):
    @pytest.fixture
    def plugin_case(self):
        return PluginCase("negative_wom", {"dissatisfied": 0.4, "weight": 2.0})


class TestCompetitor(PluginTestSuite):
    @pytest.fixture
    def plugin_case(self):
        return PluginCase("competitor", {"budget": 20000, "switching": 0.2, "start": 2})


class TestLeadPriority(PluginTestSuite):
    @pytest.fixture
    def plugin_case(self):
        return PluginCase("lead_priority", {"roles": ["inside", "outside"], "min_score": 0.1})

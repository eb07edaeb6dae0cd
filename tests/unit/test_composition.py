"""Element maps: masses, mixing, conservation, REE patterns, anomalies and distances."""

import math

import pytest

from ledger.lots.composition import (
    CHONDRITE_PPM,
    DEPOSIT_PROFILE_NAMES,
    DEPOSIT_PROFILES,
    FINGERPRINT_BINS,
    HEAVY,
    OXIDE_METAL_FRACTION,
    RARE_EARTHS,
    REY,
    balance,
    ce_anomaly,
    chondrite_normalised,
    closest_profile,
    distance,
    element_masses,
    eu_anomaly,
    fingerprint,
    heavy_share,
    mix,
    most_of,
    re_ppm,
    ree_distribution,
    rey_ppm,
    treo_ppm,
    unlisted_ppm,
)


def test_rare_earths_are_the_seventeen_and_rey_leaves_out_scandium() -> None:
    assert len(RARE_EARTHS) == 17 and "Sc" in RARE_EARTHS
    assert len(REY) == 16 and "Sc" not in REY and "Y" in REY
    assert HEAVY < REY


def test_element_masses_are_mass_times_ppm() -> None:
    assert element_masses(2_000_000, {"Nd": 250_000, "Fe": 650_000}) == {
        "Nd": 500_000.0,
        "Fe": 1_300_000.0,
    }


def test_mix_is_the_mass_weighted_mean() -> None:
    mixed = mix([(1_000, {"Nd": 300_000}), (3_000, {"Nd": 100_000, "Dy": 40_000})])
    assert mixed == pytest.approx({"Nd": 150_000, "Dy": 30_000})


def test_mix_of_nothing_is_broken_input() -> None:
    with pytest.raises(ValueError, match="no mass"):
        mix([])


def test_balance_counts_every_element_on_either_side() -> None:
    found = balance([(1_000_000, {"Nd": 300_000})], [(900_000, {"Nd": 320_000, "Tb": 100})])
    assert found["Nd"].in_g == 300_000 and found["Nd"].out_g == pytest.approx(288_000)
    assert found["Tb"].in_g == 0 and found["Tb"].out_g == pytest.approx(90)


def test_re_ppm_counts_scandium_and_rey_does_not() -> None:
    held = {"Nd": 1_000, "Sc": 500, "Fe": 9_000}
    assert re_ppm(held) == 1_500
    assert rey_ppm(held) == 1_000


def test_treo_divides_by_the_oxide_metal_fraction() -> None:
    assert treo_ppm({"Nd": 857_400, "Fe": 1}) == pytest.approx(1_000_000, rel=1e-4)
    assert treo_ppm({"Y": 78_740}) == pytest.approx(100_000, rel=1e-4)


def test_ree_distribution_sums_to_one_and_ignores_other_elements() -> None:
    shares = ree_distribution({"La": 300, "Ce": 500, "Nd": 200, "Fe": 9_000, "Sc": 50})
    assert shares == pytest.approx({"La": 0.3, "Ce": 0.5, "Nd": 0.2})
    assert ree_distribution({"Fe": 1_000}) == {}


def test_heavy_share_counts_gd_to_lu_and_y() -> None:
    assert heavy_share({"Nd": 800, "Dy": 100, "Y": 100}) == pytest.approx(0.2)
    assert heavy_share({}) == 0


def test_fingerprint_pools_ho_to_lu() -> None:
    shares = fingerprint({"La": 500, "Ho": 100, "Yb": 150, "Lu": 250})
    assert tuple(shares) == FINGERPRINT_BINS
    assert shares["HREE"] == pytest.approx(0.5) and shares["La"] == pytest.approx(0.5)


def test_profiles_are_distributions_over_the_bins() -> None:
    for profile in DEPOSIT_PROFILES.values():
        assert tuple(profile) == FINGERPRINT_BINS
        assert sum(profile.values()) == pytest.approx(1)


def test_profiles_convert_oxide_percent_to_elemental_shares() -> None:
    # Bastnaesite: La 28 % and Ce 48.5 % of TREO, mid-range; the metal ratio follows.
    bast = DEPOSIT_PROFILES["bastnaesite"]
    expected = (28 * OXIDE_METAL_FRACTION["La"]) / (48.5 * OXIDE_METAL_FRACTION["Ce"])
    assert bast["La"] / bast["Ce"] == pytest.approx(expected)
    assert DEPOSIT_PROFILES["ionic_clay_heavy"]["Y"] > 0.55


def test_distance_is_total_variation() -> None:
    assert distance({"La": 1.0}, {"Ce": 1.0}) == 1
    assert distance({"La": 0.5, "Ce": 0.5}, {"La": 0.3, "Ce": 0.7}) == pytest.approx(0.2)
    assert distance(DEPOSIT_PROFILES["bastnaesite"], DEPOSIT_PROFILES["bastnaesite"]) == 0


def test_heavy_clay_is_far_from_bastnaesite_and_monazite_is_near() -> None:
    bast = DEPOSIT_PROFILES["bastnaesite"]
    assert distance(bast, DEPOSIT_PROFILES["ionic_clay_heavy"]) > 0.8
    assert distance(bast, DEPOSIT_PROFILES["ionic_clay_light"]) > 0.4
    assert distance(bast, DEPOSIT_PROFILES["monazite"]) < 0.15  # a limit, see docs/rules.md


def test_ionic_clay_matches_either_clay_profile_and_other_matches_none() -> None:
    assert DEPOSIT_PROFILE_NAMES["ionic_clay"] == ("ionic_clay_heavy", "ionic_clay_light")
    assert closest_profile({"La": 1_000}, DEPOSIT_PROFILE_NAMES["other"]) is None


def test_closest_profile_names_the_nearest() -> None:
    clay = {"Y": 600, "Dy": 75, "Gd": 60, "Er": 130, "Nd": 40, "La": 25, "Sm": 25, "Tb": 13}
    name, gap = closest_profile(clay, DEPOSIT_PROFILES) or ("", 1.0)
    assert name == "ionic_clay_heavy" and gap < 0.05
    assert closest_profile({"Fe": 1}, DEPOSIT_PROFILES) is None


def test_chondrite_normalisation_divides_by_ci() -> None:
    normalised = chondrite_normalised({"La": 237, "Y": 15.7})
    assert normalised["La"] == pytest.approx(1_000) and normalised["Y"] == pytest.approx(10)
    assert set(normalised) == set(CHONDRITE_PPM)


def test_ce_anomaly_is_one_on_a_flat_pattern() -> None:
    flat = {e: CHONDRITE_PPM[e] * 100 for e in ("La", "Ce", "Pr", "Sm", "Eu", "Gd")}
    assert ce_anomaly(flat) == pytest.approx(1)
    assert eu_anomaly(flat) == pytest.approx(1)


def test_eu_anomaly_sees_a_negative_anomaly() -> None:
    pattern = {"Sm": CHONDRITE_PPM["Sm"] * 100, "Gd": CHONDRITE_PPM["Gd"] * 100}
    pattern["Eu"] = CHONDRITE_PPM["Eu"] * 25
    assert eu_anomaly(pattern) == pytest.approx(0.25)


def test_anomalies_are_undefined_without_neighbours_and_zero_without_the_centre() -> None:
    assert ce_anomaly({"Ce": 100, "Pr": 10}) is None
    assert eu_anomaly({"Eu": 1, "Gd": 5}) is None
    anomaly = ce_anomaly({"La": 10, "Pr": 5})
    assert anomaly == 0 and not math.isnan(anomaly)


def test_an_unlisted_element_is_not_measured_and_at_most_the_unlisted_remainder() -> None:
    ore = {"La": 20_000, "Ce": 30_000, "Fe": 150_000}  # 80 % of the lot not listed
    assert unlisted_ppm(ore) == 800_000
    assert most_of("La", 1_000, ore) == 20  # listed: what it lists
    assert most_of("Tb", 1_000, ore) == 800  # not measured: up to the remainder
    assert most_of("Tb", 1_000, {"Dy": 600_000, "Fe": 400_000}) == 0  # nothing unlisted
    assert unlisted_ppm({"Dy": 700_000, "Fe": 400_000}) == 0  # never below 0

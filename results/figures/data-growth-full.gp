# Early-exit policy as personal data arrive (full scale)
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 960,620 font "sans,10"
set encoding utf8
$rounds << EOD
1 56.40893336299872 6.833735361458484 94.79166666666667 1.0817833954065403
2 53.78231248588455 6.47019361817048 95.475 0.9742724601819893
3 52.08352617781533 6.210630360996124 95.75 0.9427285276204982
4 50.96381366091212 6.180257234207664 95.78333333333333 0.9180704754115423
5 51.04886025709899 6.462604541515787 95.775 0.9171639900066053
EOD
set title "Early-exit policy as personal data arrive (full scale)"
set xlabel "data-growth round (personal data arrive each round)"
set ylabel "percent"
set xtics 1
set yrange [0:105]
set grid
set key outside top center horizontal
set style fill transparent solid 0.2 noborder
plot $rounds using 1:($2-$3):($2+$3) with filledcurves linecolor rgb "#3366aa" title "FLOPs 95% CI", \
     $rounds using 1:2 with linespoints pointtype 7 linewidth 2 linecolor rgb "#3366aa" title "policy FLOPs (% of the full network)", \
     $rounds using 1:($4-$5):($4+$5) with filledcurves linecolor rgb "#aa6633" title "accuracy 95% CI", \
     $rounds using 1:4 with linespoints pointtype 5 linewidth 2 linecolor rgb "#aa6633" title "policy test accuracy (%)"
